//! Retries: the pure policy ([`policy`]), the send loop around it ([`send`]), and the errors a
//! failed attempt ends in ([`failure`]).

mod failure;
mod policy;
mod send;

pub(crate) use crate::retry::policy::RetryPolicy;
pub(crate) use crate::retry::send::{Endpoint, Sender};
