//! Handlers: async closures or fns whose arguments are extractors ([`FromSocket`]), like axum's.
//!
//! A handler's future is polled once right away, in the task that received the packet: what it
//! emits before its first `.await` leaves in order, and handlers of one client start in the order
//! its packets came. Only a future that is still pending after that first poll gets a task of its
//! own. A panicking handler is caught and logged; it takes nothing else down.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::broadcast::coalesce;
use crate::extract::{ExtractError, FromMessage, FromSocket, HandlerContext};

/// A boxed, sendable future.
pub(crate) type BoxFuture<O> = Pin<Box<dyn Future<Output = O> + Send>>;

/// Something that handles a packet: implemented for every `Fn(T1, ..., Tn) -> impl Future`
/// whose arguments are extractors, up to 10 of them: any [`FromSocket`] ones, then, last, at
/// most one that takes the packet's arguments ([`FromMessage`]).
///
/// `S` is the application state type, `T` the tuple of argument types (inferred, with a
/// marker first), `O` what the future yields: `()` for event, connect and disconnect handlers,
/// `Result<(), ConnectError>` for connection middlewares.
///
/// ```
/// use tower_socketio::extract::{AckSender, Data};
/// use tower_socketio::{Handler, Namespace, SocketRef};
///
/// // An async fn, or a closure returning a future: both are handlers.
/// async fn on_message(socket: SocketRef, Data(text): Data<String>) {
///     let _ = socket.to("chat").emit("message", &text);
/// }
///
/// /// Adds the same routes to any namespace: the handler type is generic.
/// fn with_chat<S, H, T>(ns: Namespace<S>, on_message: H) -> Namespace<S>
/// where
///     S: Clone + Send + Sync + 'static,
///     H: Handler<S, T, ()>,
///     T: 'static,
/// {
///     ns.on("message", on_message)
///         .on("ping", |ack: AckSender| async move { let _ = ack.send("pong"); })
/// }
///
/// let ns: Namespace = with_chat(Namespace::new(), on_message);
/// # let _ = ns;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler",
    label = "not an async fn or closure whose arguments are all extractors",
    note = "a handler is an `async fn` or a closure returning a future (`|socket: SocketRef| async move {{ .. }}`), whose arguments are extractors taken by value: `SocketRef`, not `&SocketRef`",
    note = "`Data<T>` (with `T: Deserialize`), `TryData<T>`, `Args` and `Bin` take the packet's arguments: at most one of them, as the last argument",
    note = "a connection middleware's future yields `Result<(), ConnectError>`; event, connect and disconnect handlers' yield `()`"
)]
pub trait Handler<S, T, O>: Clone + Send + Sync + 'static {
    /// The handler's future.
    type Future: Future<Output = O> + Send + 'static;

    /// Extracts the arguments and calls the handler.
    fn call(&self, ctx: HandlerContext<S>) -> Result<Self::Future, ExtractError>;
}

impl<S, F, Fut, O> Handler<S, (), O> for F
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = O> + Send + 'static,
{
    type Future = Fut;

    fn call(&self, _ctx: HandlerContext<S>) -> Result<Fut, ExtractError> {
        Ok((self)())
    }
}

macro_rules! impl_handler {
    ([$($ty:ident),*], $last:ident) => {
        #[allow(non_snake_case, unused_mut)]
        impl<S, F, Fut, O, M, $($ty,)* $last> Handler<S, (M, $($ty,)* $last,), O> for F
        where
            F: Fn($($ty,)* $last) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = O> + Send + 'static,
            $($ty: FromSocket<S>,)*
            $last: FromMessage<S, M>,
        {
            type Future = Fut;

            fn call(&self, mut ctx: HandlerContext<S>) -> Result<Fut, ExtractError> {
                $(let $ty = $ty::from_socket(&mut ctx)?;)*
                let $last = $last::from_message(&mut ctx)?;
                Ok((self)($($ty,)* $last))
            }
        }
    };
}

impl_handler!([], T1);
impl_handler!([T1], T2);
impl_handler!([T1, T2], T3);
impl_handler!([T1, T2, T3], T4);
impl_handler!([T1, T2, T3, T4], T5);
impl_handler!([T1, T2, T3, T4, T5], T6);
impl_handler!([T1, T2, T3, T4, T5, T6], T7);
impl_handler!([T1, T2, T3, T4, T5, T6, T7], T8);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8], T9);
impl_handler!([T1, T2, T3, T4, T5, T6, T7, T8, T9], T10);

/// A handler with its argument types erased, as namespaces store them.
pub(crate) trait ErasedHandler<S, O>: Send + Sync {
    fn call(&self, ctx: HandlerContext<S>) -> Result<BoxFuture<O>, ExtractError>;
}

struct Erased<H, T>(H, PhantomData<fn() -> T>);

impl<S, T, O, H> ErasedHandler<S, O> for Erased<H, T>
where
    H: Handler<S, T, O>,
    T: 'static,
{
    fn call(&self, ctx: HandlerContext<S>) -> Result<BoxFuture<O>, ExtractError> {
        Ok(Box::pin(self.0.call(ctx)?))
    }
}

/// A stored handler.
pub(crate) type BoxedHandler<S, O> = Arc<dyn ErasedHandler<S, O>>;

pub(crate) fn boxed<S, T, O, H>(handler: H) -> BoxedHandler<S, O>
where
    H: Handler<S, T, O>,
    T: 'static,
    S: 'static,
    O: 'static,
{
    Arc::new(Erased(handler, PhantomData))
}

/// Polls `future` once here; if it is not done, hands it to a task of its own.
pub(crate) fn run(future: BoxFuture<()>) {
    let mut future = future;
    let mut cx = Context::from_waker(Waker::noop());
    match coalesce::scope(|| catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)))) {
        Ok(Poll::Ready(())) => {}
        // The task polls it again at once, registering its own waker.
        Ok(Poll::Pending) => {
            tokio::spawn(CatchPanic(future));
        }
        Err(_) => tracing::error!("a handler panicked"),
    }
}

/// A future that turns a panic into a log line, so a panicking handler's task ends quietly.
struct CatchPanic(BoxFuture<()>);

impl Future for CatchPanic {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match coalesce::scope(|| catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx)))) {
            Ok(poll) => poll,
            Err(_) => {
                tracing::error!("a handler panicked");
                Poll::Ready(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_handler_runs_at_once_until_it_awaits_then_in_a_task() {
        let steps = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let seen = steps.clone();
        run(Box::pin(async move {
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = rx.await;
            seen.fetch_add(1, Ordering::SeqCst);
        }));
        // The part before the first await ran in this call.
        assert_eq!(steps.load(Ordering::SeqCst), 1);
        tx.send(()).unwrap();
        for _ in 0..100 {
            if steps.load(Ordering::SeqCst) == 2 {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the rest of the handler did not run in its task");
    }

    #[tokio::test]
    async fn a_panicking_handler_is_contained() {
        run(Box::pin(async { panic!("in the first poll") }));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        run(Box::pin(async move {
            let _ = rx.await;
            panic!("in its task");
        }));
        tx.send(()).unwrap();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        // Still here: neither panic reached the caller or the runtime.
    }
}
