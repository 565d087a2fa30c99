//! (filled in by the designer browser tests)
