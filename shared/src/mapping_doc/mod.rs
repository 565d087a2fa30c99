//! The mapping document (issue 15): the flows' configurable mappings as one JSON document, kept as versioned data.
pub mod store;
