//! End to end: signed webhooks in through the ingress handlers, SQS (moto), the workers, and the
//! requests that reach loopback fakes of Stripe and Kentico.

mod faults;
mod flow;
pub mod harness;
mod mapping;
mod operator;
mod samples;
mod trouble;
mod xbyk;
