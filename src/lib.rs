//! gaic — the Global AI Challenge platform.
//!
//! Organizers publish tasks with hidden test data; competitors submit
//! predictions or WebAssembly models; the server scores them against data no
//! competitor sees and keeps the leaderboards. Everything lives in this
//! library so that the binary (`main.rs`) and the tests share one code path.
//! `docs/ARCHITECTURE.md` is the map.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod blobs;
pub mod boards;
pub mod bundle;
pub mod cli;
pub mod competition;
pub mod consent;
pub mod credentials;
pub mod db;
pub mod error;
pub mod eval;
pub mod http;
pub mod integrity;
pub mod ladder;
pub mod leaderboard;
pub mod limits;
pub mod live;
pub mod messages;
pub mod platform;
pub mod profiles;
pub mod queue;
pub mod rating;
pub mod recruiting;
pub mod scoring;
pub mod server;
pub mod state;
pub mod status;
pub mod submissions;
pub mod talent;
pub mod tasks;
pub mod teams;
pub mod telemetry;
pub mod ties;
pub mod web;

#[cfg(test)]
mod layering;
