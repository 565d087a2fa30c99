//! Fake Kentico (in progress).
