//! (filled in by the operations browser tests)
