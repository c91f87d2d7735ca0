//! payload (work in progress).
