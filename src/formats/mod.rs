//! The small value grammars every part of nfsha reads: durations and
//! booleans, and the version strings of the tools a configuration is
//! applied with. Each grammar is named after the program whose reading it
//! follows (Pacemaker, nfs-utils, ocf-shellfuncs, nfsha's own config files),
//! so a value means the same to the lint as to the agent or daemon that
//! will read it. And one file format: SQLite's, read without the library
//! ([`sqlite`]).

pub mod bools;
pub mod duration;
pub mod sqlite;
pub mod version;
