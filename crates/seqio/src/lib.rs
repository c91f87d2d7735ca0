//! seqflow-seqio (skeleton).
