//! names (work in progress).
