//! container (work in progress).
