//! The embedded durable store behind `paybridge serve` (in progress).
