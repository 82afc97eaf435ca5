//! The HTTP integration suite: one binary, the real router on 127.0.0.1:0,
//! a fresh database per test (a temporary SQLite file, or a fresh PostgreSQL
//! database when `GAIC_TEST_DATABASE_URL` is set), reqwest as the client.

mod accounts;
mod audit;
mod browser;
mod cli;
mod credentials;
mod first_hour;
mod fuzz;
mod hardening;
mod helpers;
mod judge;
mod leaderboards;
mod leaks;
mod limits;
mod live;
mod models;
mod ops;
mod pages;
mod privacy;
mod queue;
mod remote;
mod s3;
mod sandbox_cli;
mod scale;
mod score_cli;
mod serve;
mod sessions;
mod submissions;
mod talent;
mod tasks;
mod teams;
mod translations;
mod web_flows;
