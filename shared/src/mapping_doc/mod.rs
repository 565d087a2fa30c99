//! The mapping document (docs/CONTRACTS.md#mapping-document): every configurable mapping of
//! the flows as one versioned JSON document — its shape ([`document`]), its checks
//! ([`validate`]), its rules' evaluation ([`rules`]), version 0, the environment's settings
//! ([`defaults`]), where the published versions live ([`store`]), a version applied over the
//! environment's settings ([`applied`]) and the one a worker runs with, refreshed
//! ([`active`]), and the suggestions that help write one ([`suggest`]).

pub mod active;
pub mod aliases;
pub mod applied;
pub mod defaults;
pub mod document;
pub mod rules;
pub mod store;
pub mod suggest;
pub mod validate;

pub use active::{ActiveMapping, MappingLoadError};
pub use applied::{AppliedMapping, Flow};
pub use document::{MappingDocument, SCHEMA};
pub use validate::Problem;
