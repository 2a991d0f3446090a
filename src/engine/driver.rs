//! The one task each session runs: heartbeat and timeouts, the upgrade from polling to
//! WebSocket, and on WebSocket the reading of frames and the batched writing of the outbox.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::upgrade::OnUpgrade;
use tokio::time::{Instant, Sleep, sleep_until, timeout};

use super::config::{EngineConfig, Transport};
use super::frame::{self, ReadError, WsMessage, close_code};
use super::packet::{self, Incoming, Packet, PacketType};
use super::socket::{CloseKind, Phase};
use super::websocket::{self, WsConn, WsEvent};
use super::{DisconnectReason, EngineHandler, EngineShared, Message, ProtocolVersion, Socket};

/// How a session starts.
pub(super) enum Start {
    /// The handshake was a polling request, already answered.
    Polling,
    /// The handshake was a WebSocket request; the connection comes with the upgrade.
    WebSocket(OnUpgrade),
}

/// Runs a session from its handshake to its end.
pub(super) async fn run<H: EngineHandler>(
    shared: Arc<EngineShared<H>>,
    socket: Arc<Socket<H::Data>>,
    start: Start,
) {
    let config = &shared.config;
    let mut heartbeat = Heartbeat::new(socket.protocol(), config);
    // Kept across an upgrade: a deadline armed while polling still holds on the WebSocket.
    let mut deadline = HandlerDeadline::new();
    let reason = match start {
        Start::Polling => match polling(&shared, &socket, &mut heartbeat, &mut deadline).await {
            PollingEnd::Closed(reason) => reason,
            PollingEnd::Upgraded(ws) => {
                // From now on the WebSocket is the outbox's only reader: hold the poll lock for
                // good (the pending poll, if any, was answered when the probe succeeded).
                let _poll = socket.poll_lock.lock().await;
                socket.set_phase(Phase::WebSocket);
                tracing::debug!("upgraded to websocket");
                shared.handler.on_upgrade(&socket);
                websocket_loop(&shared, &socket, *ws, &mut heartbeat, &mut deadline).await
            }
        },
        Start::WebSocket(on_upgrade) => {
            let opened = async {
                let mut ws = websocket::connect(on_upgrade, config).await.ok()?;
                let open = shared.open_packet(socket.id(), Transport::WebSocket);
                ws.send(socket.protocol(), &open).await.ok()?;
                Some(ws)
            };
            match timeout(config.upgrade_timeout, opened).await {
                Ok(Some(ws)) => {
                    let _poll = socket.poll_lock.lock().await;
                    if let Some(stats) = shared.stats.get() {
                        stats.connected();
                    }
                    shared.handler.on_connect(socket.clone());
                    websocket_loop(&shared, &socket, ws, &mut heartbeat, &mut deadline).await
                }
                _ => {
                    // The client never completed the WebSocket handshake: it was never
                    // connected, so the handler hears nothing.
                    tracing::debug!("websocket handshake did not complete");
                    socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
                    shared.remove(socket.id());
                    return;
                }
            }
        }
    };
    socket.request_close(reason, CloseKind::Abort);
    tracing::debug!(%reason, "session closed");
    let lingering = socket.closed_by_client_poll() && !socket.outbox.is_empty();
    if !lingering {
        shared.remove(socket.id());
    }
    if let Some(stats) = shared.stats.get() {
        stats.disconnected(reason);
    }
    shared.handler.on_disconnect(socket.clone(), reason);
    if lingering {
        linger(&socket).await;
        shared.remove(socket.id());
    }
}

/// How long a closed polling session keeps its last packet for a poll on its way.
const LINGER: Duration = Duration::from_millis(500);

/// Waits until the last packet of a closed polling session is taken by a poll, at most
/// [`LINGER`]. A client that closes its session (POST `1`) may have a poll under way, sent at
/// the same moment on another connection; on a multi-threaded runtime the close may be handled
/// first. That poll gets the `noop` it would have got had it come first, as with Node, whose
/// single thread handles them in arrival order.
async fn linger<D>(socket: &Socket<D>) {
    let until = Instant::now() + LINGER;
    while !socket.outbox.is_empty() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The heartbeat of one session.
///
/// v4: the server pings every `ping_interval` and expects the pong within `ping_timeout`.
/// v3: the client pings; the session times out when nothing arrives for
/// `ping_interval + ping_timeout`.
struct Heartbeat {
    v3: bool,
    interval: Duration,
    timeout: Duration,
    awaiting_pong: bool,
    deadline: Instant,
}

enum Tick {
    SendPing,
    TimedOut,
}

impl Heartbeat {
    fn new(protocol: ProtocolVersion, config: &EngineConfig) -> Self {
        let v3 = protocol == ProtocolVersion::V3;
        let mut heartbeat = Heartbeat {
            v3,
            interval: config.ping_interval,
            timeout: config.ping_timeout,
            awaiting_pong: false,
            deadline: Instant::now(),
        };
        heartbeat.alive();
        heartbeat
    }

    /// The client answered (v4: a pong; v3: any packet).
    fn alive(&mut self) {
        self.awaiting_pong = false;
        self.deadline = Instant::now()
            + if self.v3 {
                self.interval + self.timeout
            } else {
                self.interval
            };
    }

    /// The deadline passed.
    fn tick(&mut self) -> Tick {
        if self.v3 || self.awaiting_pong {
            return Tick::TimedOut;
        }
        self.awaiting_pong = true;
        // From when the ping was due rather than from now: a timer fires a little late, and a
        // client that polls right at `ping_interval + ping_timeout` must find the session gone.
        // A driver very late gives the client at least half the timeout still.
        self.deadline = (self.deadline + self.timeout).max(Instant::now() + self.timeout / 2);
        Tick::SendPing
    }

    fn reset(&self, sleep: Pin<&mut Sleep>) {
        sleep.reset(self.deadline);
    }
}

enum PollingEnd {
    Closed(DisconnectReason),
    Upgraded(Box<WsConn>),
}

type ProbeFuture = Pin<Box<dyn Future<Output = Option<WsConn>> + Send>>;

/// Drives a session on polling until it closes or upgrades.
async fn polling<H: EngineHandler>(
    shared: &EngineShared<H>,
    socket: &Arc<Socket<H::Data>>,
    heartbeat: &mut Heartbeat,
    handler_deadline: &mut HandlerDeadline,
) -> PollingEnd {
    let config = &shared.config;
    let sleep = sleep_until(heartbeat.deadline);
    tokio::pin!(sleep);
    let mut probe: Option<ProbeFuture> = None;
    let mut graceful: Option<DisconnectReason> = None;
    loop {
        tokio::select! {
            () = socket.wake.wait() => {
                let signals = socket.take_signals();
                handler_deadline.update(signals.deadline);
                match signals.close {
                    Some((reason, CloseKind::Abort)) => return PollingEnd::Closed(reason),
                    Some((reason, CloseKind::Graceful)) => {
                        if signals.close_delivered {
                            return PollingEnd::Closed(reason);
                        }
                        if graceful.is_none() {
                            // Wait for the client's next poll to deliver the close packet, but
                            // not longer than a heartbeat would.
                            graceful = Some(reason);
                            probe = None;
                            sleep.as_mut().reset(Instant::now() + config.ping_interval + config.ping_timeout);
                        }
                    }
                    None => {}
                }
                if signals.heartbeat && graceful.is_none() {
                    heartbeat.alive();
                    heartbeat.reset(sleep.as_mut());
                }
                if let Some(on_upgrade) = signals.upgrade {
                    if graceful.is_none() {
                        tracing::debug!("upgrade started");
                        probe = Some(Box::pin(probe_upgrade(socket.clone(), on_upgrade, config.clone())));
                    }
                }
            }
            () = &mut sleep => {
                if let Some(reason) = graceful {
                    return PollingEnd::Closed(reason);
                }
                match heartbeat.tick() {
                    Tick::SendPing => {
                        socket.send_control(Packet::bare(PacketType::Ping));
                        socket.set_pong_due(heartbeat.deadline);
                        heartbeat.reset(sleep.as_mut());
                    }
                    Tick::TimedOut => return PollingEnd::Closed(DisconnectReason::PingTimeout),
                }
            }
            () = handler_deadline.elapsed(), if handler_deadline.armed() => {
                handler_deadline.disarm();
                shared.handler.on_deadline(socket);
            }
            upgraded = async { probe.as_mut().expect("guarded by the condition").await }, if probe.is_some() => {
                probe = None;
                match upgraded {
                    Some(ws) => return PollingEnd::Upgraded(Box::new(ws)),
                    None => {
                        tracing::debug!("upgrade failed: staying on polling");
                        socket.upgrade_failed();
                    }
                }
            }
        }
    }
}

/// How long the probe waits for an upgrade packet right behind it before it releases the
/// pending poll (see [`probe_upgrade`]).
const PROBE_FOLLOW: Duration = Duration::from_millis(2);

/// The client's side of an upgrade: the WebSocket opens, `2probe` comes and gets `3probe`, then
/// `5` comes. Anything else, or the upgrade timeout, fails the upgrade.
async fn probe_upgrade<D: Send + Sync + 'static>(
    socket: Arc<Socket<D>>,
    on_upgrade: OnUpgrade,
    config: EngineConfig,
) -> Option<WsConn> {
    let protocol = socket.protocol();
    let probe = async {
        let mut ws = websocket::connect(on_upgrade, &config).await.ok()?;
        let mut probed = false;
        loop {
            let text = match ws.next().await.ok()? {
                WsMessage::Text(text) => text,
                WsMessage::Ping(data) => {
                    ws.pong(&data).await.ok()?;
                    continue;
                }
                WsMessage::Pong => continue,
                _ => return None,
            };
            match packet::decode_text(text).ok()? {
                Incoming::Ping(data) if !probed && data == "probe" => {
                    let pong = Packet::text(PacketType::Pong, "probe");
                    ws.send(protocol, &pong).await.ok()?;
                    probed = true;
                    // A client that sent the upgrade packet right behind the probe (without
                    // waiting for its pending poll, as the official clients do) has it taken
                    // first: a poll racing with it finds the session on WebSocket, as it would
                    // on Node, which reads the WebSocket's packets in arrival order.
                    if let Ok(next) = timeout(PROBE_FOLLOW, ws.next()).await {
                        let WsMessage::Text(text) = next.ok()? else {
                            return None;
                        };
                        if packet::decode_text(text).ok()? != Incoming::Upgrade {
                            return None;
                        }
                        socket.set_phase(Phase::WebSocket);
                        socket.outbox.ready.notify();
                        return Some(ws);
                    }
                    // A pending poll returns now (with a noop when nothing is queued), so that
                    // the client, which paused polling, can send the upgrade packet.
                    socket.set_phase(Phase::Upgrading);
                    socket.outbox.ready.notify();
                }
                Incoming::Upgrade if probed => return Some(ws),
                _ => return None,
            }
        }
    };
    timeout(config.upgrade_timeout, probe).await.ok().flatten()
}

/// How long a graceful close ([`Socket::close`], [`EngineIo::close`](super::EngineIo::close))
/// may take to write what is queued on a WebSocket before the connection closes anyway.
const GRACEFUL_CLOSE: Duration = Duration::from_secs(1);

/// Every how many messages read in a row the WebSocket loop reads the clock.
const CLOCK_CHECK: u32 = 32;

/// Drives a session on WebSocket until it closes.
///
/// Nothing here awaits a write: queued packets are encoded into the connection's write buffer
/// and [`WsConn::poll_event`] writes them out while the other branches (close, shutdown,
/// heartbeat, the handler's deadline) stay live. While a write waits (the client's kernel
/// buffers are full), what the application queues waits in the outbox (bounded in bytes) and
/// goes out in the next batch, and the client is read up to its next message, which waits for
/// the write to finish: its pongs are seen, and a client that floods without reading costs no
/// more memory than one message.
async fn websocket_loop<H: EngineHandler>(
    shared: &EngineShared<H>,
    socket: &Arc<Socket<H::Data>>,
    mut ws: WsConn,
    heartbeat: &mut Heartbeat,
    handler_deadline: &mut HandlerDeadline,
) -> DisconnectReason {
    let protocol = socket.protocol();
    let sleep = sleep_until(heartbeat.deadline);
    tokio::pin!(sleep);
    // Packets taken from the outbox and not yet encoded (what follows a pause).
    let mut batch = Vec::new();
    // Where the last encoding of the batch stopped.
    let mut stop = Encoded::All;
    let mut close = (close_code::NORMAL, "");
    // The client does not read: no goodbye is waited for.
    let mut stalled = false;
    // A message read while a write was waiting: handled once the write is done.
    let mut held: Option<Message> = None;
    // Messages read, for the clock checks.
    let mut reads: u32 = 0;
    // A graceful close under way: its reason, and the end of its grace period.
    let mut grace: Option<(DisconnectReason, Pin<Box<Sleep>>)> = None;
    // A deadline asked for since the driver last looked.
    handler_deadline.update(socket.take_signals().deadline);
    let reason = loop {
        tokio::select! {
            biased;
            () = socket.wake.wait() => {
                let signals = socket.take_signals();
                handler_deadline.update(signals.deadline);
                match signals.close {
                    Some((reason, CloseKind::Abort)) => break reason,
                    Some((reason, CloseKind::Graceful)) if grace.is_none() => {
                        // The close packet ends the session once what precedes it is written,
                        // but within the grace period, whatever a write is doing.
                        grace = Some((reason, Box::pin(tokio::time::sleep(GRACEFUL_CLOSE))));
                    }
                    _ => {}
                }
            }
            () = async { grace.as_mut().expect("guarded by the condition").1.as_mut().await }, if grace.is_some() => {
                stalled = ws.is_writing();
                break grace.take().expect("guarded by the condition").0;
            }
            () = handler_deadline.elapsed(), if handler_deadline.armed() => {
                handler_deadline.disarm();
                shared.handler.on_deadline(socket);
            }
            // Before reading: a client that floods cannot hold off its own timeout.
            () = &mut sleep => {
                if let Some(reason) = beat(heartbeat, &mut ws, protocol, sleep.as_mut()) {
                    stalled = ws.is_writing();
                    break reason;
                }
            }
            () = socket.outbox.ready.wait(), if !ws.is_writing() && batch.is_empty() => {
                socket.drain_outbox(&mut batch);
                if let Some(stats) = shared.stats.get() {
                    stats.sent(&batch);
                }
                stop = encode_batch(protocol, &mut batch, ws.out());
                if stop == Encoded::Close && !ws.is_writing() {
                    break closing_reason(socket);
                }
            }
            event = std::future::poll_fn(|cx| ws.poll_event(cx, stop != Encoded::Close && held.is_none())) => match event {
                WsEvent::Written(Ok(())) => {
                    if let Some(message) = held.take() {
                        dispatch(shared, socket, message);
                    }
                    match stop {
                        Encoded::Close => break closing_reason(socket),
                        Encoded::All => continue,
                        // What follows a pause goes out in a later read of the client's
                        // (see `Packet::Pause`): one timer tick, then the rest of the batch.
                        Encoded::Pause => tokio::time::sleep(Duration::from_millis(1)).await,
                        Encoded::Chunk => {}
                    }
                    stop = encode_batch(protocol, &mut batch, ws.out());
                    if stop == Encoded::Close && !ws.is_writing() {
                        break closing_reason(socket);
                    }
                }
                WsEvent::Written(Err(error)) => {
                    tracing::debug!(%error, "websocket write failed");
                    break DisconnectReason::TransportError;
                }
                WsEvent::Stalled => {
                    tracing::warn!(
                        sid = %socket.id(),
                        write_timeout = ?shared.config.write_timeout,
                        "client stopped reading: a write made no progress for the write timeout, closing"
                    );
                    stalled = true;
                    break DisconnectReason::TransportError;
                }
                WsEvent::Read(read) => {
                    let incoming = match read {
                        Ok(WsMessage::Text(text)) => packet::decode_text(text),
                        Ok(WsMessage::Binary(data)) => packet::decode_binary(protocol, data),
                        Ok(WsMessage::Close(code)) => {
                            // Answered with the client's code, as RFC 6455 (5.5.1) suggests.
                            close = (code.unwrap_or(close_code::NORMAL), "");
                            break DisconnectReason::TransportClose;
                        }
                        Ok(WsMessage::Ping(data)) => {
                            frame::encode_pong(&data, ws.out());
                            continue;
                        }
                        Ok(WsMessage::Pong) => continue,
                        Err(ReadError::TooBig { size, max }) => {
                            // As Node's `ws` does: close code 1009.
                            tracing::debug!(size, max, "message over max_payload: closing");
                            close = (close_code::TOO_BIG, "message too big");
                            break DisconnectReason::TransportError;
                        }
                        Err(ReadError::Violation { code, reason }) => {
                            tracing::debug!(code, reason, "websocket protocol violation: closing");
                            close = (code, reason);
                            break DisconnectReason::TransportError;
                        }
                        Err(ReadError::Io(error)) => {
                            // A connection that went away, even without a close frame, is a
                            // transport close, as in Node.
                            tracing::debug!(%error, "websocket read ended");
                            break DisconnectReason::TransportClose;
                        }
                    };
                    let Ok(incoming) = incoming else {
                        tracing::debug!("undecodable packet: closing");
                        break DisconnectReason::ParseError;
                    };
                    if heartbeat.v3 {
                        heartbeat.alive();
                        heartbeat.reset(sleep.as_mut());
                    }
                    reads = reads.wrapping_add(1);
                    if reads % CLOCK_CHECK == 0 {
                        // A client that keeps the loop busy reading keeps the runtime from
                        // firing timers: read the clock for the heartbeat and the write bound.
                        let now = Instant::now();
                        if ws.stall_overdue(now) {
                            stalled = true;
                            break DisconnectReason::TransportError;
                        }
                        if now >= heartbeat.deadline {
                            if let Some(reason) = beat(heartbeat, &mut ws, protocol, sleep.as_mut()) {
                                stalled = ws.is_writing();
                                break reason;
                            }
                        }
                    }
                    match incoming {
                        Incoming::Message(message) => {
                            if ws.is_writing() {
                                // The client does not keep up with what is written to it: take
                                // no more of its messages until the write is done, so that a
                                // client that sends and never reads does not make the server
                                // queue answers for it. Its pongs are still read until then.
                                held = Some(message);
                            } else {
                                dispatch(shared, socket, message);
                            }
                        }
                        Incoming::Ping(data) if heartbeat.v3 => {
                            let pong = Packet::text(PacketType::Pong, &data);
                            websocket::encode_frame(protocol, &pong, ws.out());
                        }
                        Incoming::Pong(_) if !heartbeat.v3 => {
                            heartbeat.alive();
                            heartbeat.reset(sleep.as_mut());
                        }
                        Incoming::Ping(_) | Incoming::Pong(_) => {
                            tracing::debug!("heartbeat in the wrong direction: closing");
                            break DisconnectReason::TransportError;
                        }
                        Incoming::Close => break DisconnectReason::TransportClose,
                        Incoming::Upgrade | Incoming::Noop => {}
                    }
                }
            },
        }
    };
    // Say goodbye with a close frame, but do not wait on a client that stopped reading: one
    // try for it then, and at most a second otherwise.
    let (code, why) = close;
    let wait = if stalled {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    let _ = timeout(wait, ws.close(code, why)).await;
    reason
}

/// Hands a client's message to the handler.
fn dispatch<H: EngineHandler>(
    shared: &EngineShared<H>,
    socket: &Arc<Socket<H::Data>>,
    message: Message,
) {
    if socket.is_connected() {
        // What the handler queues raises the flag for the next turn; a wake-up of this very
        // task would only poll it again for nothing.
        socket.outbox.ready.forget_waiter();
        if let Some(stats) = shared.stats.get() {
            stats.received(&message);
        }
        shared.handler.on_message(socket, message);
    }
}

/// The heartbeat's deadline passed on WebSocket: queues a ping (behind whatever is being
/// written: a client that does not read will not see it, and times out `ping_timeout` later, as
/// with Node), or ends the session.
fn beat(
    heartbeat: &mut Heartbeat,
    ws: &mut WsConn,
    protocol: ProtocolVersion,
    sleep: Pin<&mut Sleep>,
) -> Option<DisconnectReason> {
    match heartbeat.tick() {
        Tick::SendPing => {
            websocket::encode_frame(protocol, &Packet::bare(PacketType::Ping), ws.out());
            heartbeat.reset(sleep);
            None
        }
        Tick::TimedOut => Some(DisconnectReason::PingTimeout),
    }
}

/// The reason a session ends when its close packet comes out of the outbox.
fn closing_reason<D>(socket: &Socket<D>) -> DisconnectReason {
    socket
        .take_signals()
        .close
        .map_or(DisconnectReason::ForcedClose, |(reason, _)| reason)
}

/// Where [`encode_batch`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoded {
    /// Every packet of the batch is encoded.
    All,
    /// At a pause with packets after it: the rest goes out a timer tick after this write.
    Pause,
    /// The buffer holds a chunk's worth: the rest goes out once this is written.
    Chunk,
    /// At a close packet (what follows it is dropped): the session ends once this is written.
    /// Over WebSocket, the Node server ends a session by closing the connection, without a
    /// close packet.
    Close,
}

/// Encodes packets of `batch` into `out` as WebSocket frames, in order, taking them out of
/// `batch`; stops early at a pause, a close or once `out` holds a chunk (16 KiB), so that a
/// burst is written a chunk at a time rather than copied whole.
fn encode_batch(protocol: ProtocolVersion, batch: &mut Vec<Packet>, out: &mut Vec<u8>) -> Encoded {
    /// Written out as soon as the buffer holds this much.
    const CHUNK: usize = 16 * 1024;
    let size: usize = batch.iter().map(Packet::len).sum::<usize>() + 10 * batch.len();
    out.reserve(size.min(CHUNK + 1024));
    let mut stop = Encoded::All;
    let mut taken = 0;
    for packet in batch.iter() {
        taken += 1;
        if packet.is_close() {
            stop = Encoded::Close;
            break;
        }
        if matches!(packet, Packet::Pause) {
            if taken < batch.len() {
                stop = Encoded::Pause;
                break;
            }
        } else {
            websocket::encode_frame(protocol, packet, out);
            if out.len() >= CHUNK && taken < batch.len() {
                stop = Encoded::Chunk;
                break;
            }
        }
    }
    if stop == Encoded::Close {
        batch.clear();
    } else {
        batch.drain(..taken);
    }
    if batch.is_empty() && batch.capacity() > 128 {
        // A burst is over: the connection does not keep its peak.
        batch.shrink_to(16);
    }
    stop
}

/// The timer of [`EngineHandler::on_deadline`], kept by the driver.
struct HandlerDeadline {
    /// Allocated while armed only: most sessions have no deadline once connected.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl HandlerDeadline {
    fn new() -> Self {
        HandlerDeadline { sleep: None }
    }

    /// Applies a signalled change: `None`, no change; `Some(None)`, disarm.
    fn update(&mut self, change: Option<Option<Instant>>) {
        match (change, &mut self.sleep) {
            (None, _) => {}
            (Some(None), _) => self.sleep = None,
            (Some(Some(at)), Some(sleep)) => sleep.as_mut().reset(at),
            (Some(Some(at)), None) => self.sleep = Some(Box::pin(sleep_until(at))),
        }
    }

    fn armed(&self) -> bool {
        self.sleep.is_some()
    }

    fn disarm(&mut self) {
        self.sleep = None;
    }

    /// Completes when the deadline passes; never while disarmed.
    fn elapsed(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => std::task::Poll::Pending,
        })
    }
}
