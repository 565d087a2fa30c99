//! Kentico REST connector (in progress).
