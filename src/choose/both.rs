//! Both dialects in one bootstrap (`--features lambda` on top of the
//! default `scf`): one artifact for both platforms, chosen at start. It
//! costs the Lambda dialect's code on SCF (and SCF's on Lambda), and every
//! response head is offered to both dialects' header matching; the loop,
//! the client and the parser are compiled once, for [`Both`].

use crate::crash::Post;
use crate::dialect::{Dialect, Meta, Start, Var, Vars};
use crate::fatal::{Endpoint, Fatal};
use crate::ffi::RawContext;
use crate::http::wire::{self, Host, Span};
use crate::http::{Client, Peer, Response};
use crate::invoke::Failure;
use crate::lambda::{self, Lambda};
use crate::scf::{self, Scf};
use crate::sys::Buf;

/// The dialect served.
pub type Chosen = Both;

/// The fields of both dialects, read from every head.
#[derive(Default)]
pub struct Fields {
    scf: scf::Fields,
    lambda: lambda::Fields,
}

impl wire::Fields for Fields {
    fn clear(&mut self) {
        self.scf.clear();
        self.lambda.clear();
    }

    #[inline(always)]
    fn field(&mut self, name: &[u8], value: &[u8], at: Span) {
        self.scf.field(name, value, at);
        self.lambda.field(name, value, at);
    }
}

impl AsRef<scf::Fields> for Fields {
    fn as_ref(&self) -> &scf::Fields {
        &self.scf
    }
}

impl AsRef<lambda::Fields> for Fields {
    fn as_ref(&self) -> &lambda::Fields {
        &self.lambda
    }
}

/// Both dialects' variables.
#[derive(Default)]
pub struct Env {
    scf: scf::Env,
    lambda: lambda::Env,
}

impl Vars for Env {
    fn vars(&mut self) -> impl AsMut<[Var<'_>]> {
        let [a, b, c, d, e, f] = self.scf.named();
        let [g, h, i, j, k] = self.lambda.named();
        [a, b, c, d, e, f, g, h, i, j, k]
    }
}

/// The dialect the environment chose.
pub enum Both {
    Scf(Scf<Fields>),
    Lambda(Lambda<Fields>),
}

/// `$call` on whichever dialect `$self` is.
macro_rules! each {
    ($self:expr, $d:ident => $call:expr) => {
        match $self {
            Both::Scf($d) => $call,
            Both::Lambda($d) => $call,
        }
    };
}

impl Dialect for Both {
    type Env = Env;

    fn endpoint(env: &Env, pipeline: bool) -> Result<Start<Self>, Fatal> {
        match (env.lambda.api, env.scf.api) {
            (Some(value), Some(_)) => Err(Fatal::EnvInvalid {
                var: "AWS_LAMBDA_RUNTIME_API",
                value: value.to_bytes(),
                why: "is set, and so is SCF_RUNTIME_API: unset one (this bootstrap serves either platform)",
            }),
            (Some(_), None) => {
                let s = Lambda::endpoint(&env.lambda, pipeline)?;
                Ok(Start { dialect: Both::Lambda(s.dialect), addrs: s.addrs, host: s.host })
            }
            (None, _) => {
                let s = Scf::endpoint(&env.scf, pipeline)?;
                Ok(Start { dialect: Both::Scf(s.dialect), addrs: s.addrs, host: s.host })
            }
        }
    }

    fn meta(&self, env: &Env) -> Result<Meta, Fatal> {
        match self {
            Both::Scf(d) => d.meta(&env.scf),
            Both::Lambda(d) => d.meta(&env.lambda),
        }
    }

    fn platform(&self) -> u32 {
        each!(self, d => d.platform())
    }

    fn init_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R {
        each!(self, d => d.init_post(peer, tail, f))
    }

    fn init_error(&mut self, client: &mut Client, f: Fatal, host: &Host, tx: &mut Buf) {
        each!(self, d => d.init_error(client, f, host, tx))
    }

    fn ready(&mut self, client: &mut Client) -> Result<(), Fatal> {
        each!(self, d => d.ready(client))
    }

    fn next(&mut self, client: &mut Client) -> Result<Response, Fatal> {
        each!(self, d => d.next(client))
    }

    fn accept(&mut self, received: &mut [u8]) -> Result<Option<&'static str>, Fatal> {
        each!(self, d => d.accept(received))
    }

    fn context<'a>(&'a self, received: &'a [u8], base: &RawContext<'static>) -> RawContext<'a> {
        each!(self, d => d.context(received, base))
    }

    fn crash_post<R>(&self, peer: Peer, tail: &[u8], f: impl FnOnce(Option<Post>) -> R) -> R {
        each!(self, d => d.crash_post(peer, tail, f))
    }

    fn respond(&mut self, client: &mut Client, body: &[u8]) -> Result<Option<u16>, Fatal> {
        each!(self, d => d.respond(client, body))
    }

    fn post_error(&mut self, client: &mut Client, why: Failure, tx: &mut Buf) -> Result<u16, Fatal> {
        each!(self, d => d.post_error(client, why, tx))
    }

    fn error_endpoint(&self) -> Endpoint {
        each!(self, d => d.error_endpoint())
    }
}
