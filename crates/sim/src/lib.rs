//! seqflow-sim (skeleton).
