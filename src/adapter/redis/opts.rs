//! Broadcast options between this crate's form ([`BroadcastOptions`]) and the wire's (rooms,
//! except and Node's flags object).

use std::time::Duration;

use super::wire::{BroadcastOpts, Flags, Targets};
use crate::adapter::{AdapterFuture, BroadcastOptions};
use crate::value::Value;

/// An operation done at once.
pub(super) fn ready<T: Send + 'static>(value: T) -> AdapterFuture<T> {
    Box::pin(std::future::ready(Ok(value)))
}

/// The wire options of `opts`.
pub(super) fn wire_opts(opts: &BroadcastOptions) -> BroadcastOpts {
    let mut flags = Flags::default();
    if opts.volatile {
        flags.set("volatile", Value::Bool(true));
    }
    if opts.compress {
        flags.set("compress", Value::Bool(true));
    }
    if let Some(timeout) = opts.timeout {
        flags.set("timeout", Value::from(timeout.as_millis() as i64));
    }
    BroadcastOpts {
        rooms: opts.rooms.iter().cloned().collect(),
        except: opts.except.iter().cloned().collect(),
        flags,
    }
}

pub(super) fn targets(opts: &BroadcastOptions) -> Targets {
    Targets {
        rooms: opts.rooms.iter().cloned().collect(),
        except: opts.except.iter().cloned().collect(),
    }
}

/// The local options of what another server sent.
pub(super) fn local_opts(
    rooms: Vec<String>,
    except: Vec<String>,
    flags: Option<&Flags>,
) -> BroadcastOptions {
    BroadcastOptions {
        rooms: rooms.into_iter().collect(),
        except: except.into_iter().collect(),
        local: true,
        volatile: flags.is_some_and(Flags::volatile),
        compress: flags.and_then(Flags::compress).unwrap_or(false),
        timeout: flags.and_then(Flags::timeout).map(Duration::from_millis),
    }
}
