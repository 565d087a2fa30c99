//! (filled in by the suggestions browser tests)
