//! seqflow-qc (skeleton).
