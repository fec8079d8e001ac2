//! motcua-terminal: the citizen app in a terminal, over the same core as the phones
//! (`motcua-client`). [`app`] is the state machine (keys and outcomes in, state and
//! commands out), [`exec`] runs the commands against the core, [`ui`] draws the state,
//! [`form`] turns a draft into rows, [`text`] holds the app's words and formats.

pub mod app;
pub mod exec;
pub mod form;
pub mod text;
pub mod ui;
