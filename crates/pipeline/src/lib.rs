//! seqflow-pipeline (skeleton).
