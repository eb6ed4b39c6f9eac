//! What learners see: the invitation and activation pages and their home.
//! Both are rendered completely on the server (`SsrMode::Async`) and work
//! without JavaScript: their forms are plain HTML posts.

pub mod activate;
pub mod home;
pub mod invite;
pub mod join;
