//! varint (work in progress).
