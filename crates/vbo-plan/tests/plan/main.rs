//! Tests of the planner's public API: renderings, saved plans, properties and secrecy.

mod fixtures;
mod golden;
mod leak;
mod properties;
mod render;
mod saved;
