//! details (work in progress).
