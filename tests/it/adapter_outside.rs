//! An adapter written outside the crate, on the public trait alone (`tower_socketio::adapter`):
//! its own room table, and broadcasts that take the way a multi-server adapter's would (the
//! packet turned into text and attachments, as another server would receive them, then
//! rebuilt with `EncodedPacket::parse` and sent to this server's sockets). In-process clients
//! check that rooms, broadcasts, `sockets_join` / `sockets_leave` and `disconnect_sockets` all
//! go through it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tower_socketio::adapter::{
    Adapter, AdapterFuture, BroadcastOptions, EncodedPacket, LocalNamespace, Room,
};
use tower_socketio::engine::Sid;
use tower_socketio::extract::Data;
use tower_socketio::testing::TestClient;
use tower_socketio::{Namespace, SocketIo, SocketRef, Value};

/// What the adapter saw: the text of every broadcast.
type Log = Arc<Mutex<Vec<String>>>;

struct OutsideAdapter {
    ns: LocalNamespace,
    rooms: Mutex<HashMap<Room, BTreeSet<Sid>>>,
    log: Log,
}

impl OutsideAdapter {
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<Room, BTreeSet<Sid>>> {
        self.rooms.lock().unwrap()
    }
}

impl Adapter for OutsideAdapter {
    fn namespace(&self) -> &LocalNamespace {
        &self.ns
    }

    fn add_all(&self, sid: Sid, rooms: &[Room]) {
        let mut table = self.rooms();
        for room in rooms {
            table.entry(room.clone()).or_default().insert(sid);
        }
    }

    fn del(&self, sid: Sid, room: &str) {
        let mut table = self.rooms();
        if let Some(members) = table.get_mut(room) {
            members.remove(&sid);
            if members.is_empty() {
                table.remove(room);
            }
        }
    }

    fn del_all(&self, sid: Sid) {
        let mut table = self.rooms();
        table.retain(|_, members| {
            members.remove(&sid);
            !members.is_empty()
        });
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<Room> {
        let table = self.rooms();
        let mut rooms: Vec<Room> = table
            .iter()
            .filter(|(_, members)| members.contains(&sid))
            .map(|(room, _)| room.clone())
            .collect();
        rooms.sort();
        rooms
    }

    fn rooms(&self) -> Vec<Room> {
        self.rooms().keys().cloned().collect()
    }

    fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let table = self.rooms();
        let excluded: BTreeSet<Sid> = opts
            .except
            .iter()
            .filter_map(|room| table.get(room))
            .flatten()
            .copied()
            .collect();
        let targets: BTreeSet<Sid> = if opts.rooms.is_empty() {
            self.ns.sids().into_iter().collect()
        } else {
            opts.rooms
                .iter()
                .filter_map(|room| table.get(room))
                .flatten()
                .copied()
                .collect()
        };
        targets.difference(&excluded).copied().collect()
    }

    fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
        // What another server would receive, and rebuild.
        let (text, attachments) = (packet.text().to_owned(), packet.attachments().to_vec());
        self.log.lock().unwrap().push(text.clone());
        let rebuilt = EncodedPacket::parse(text, attachments).expect("a packet the server encoded");
        let targets = self.local_targets(opts);
        self.ns.send(targets, rebuilt, opts.volatile);
        Box::pin(std::future::ready(Ok(())))
    }
}

fn server(log: Log) -> SocketIo {
    SocketIo::builder()
        .adapter(move |ns: LocalNamespace| {
            Arc::new(OutsideAdapter {
                ns,
                rooms: Mutex::default(),
                log: log.clone(),
            }) as Arc<dyn Adapter>
        })
        .ns(
            "/",
            Namespace::new().on(
                "join",
                |socket: SocketRef, Data(room): Data<String>| async move {
                    socket.join(room);
                    let _ = socket.emit("joined", &socket.rooms());
                },
            ),
        )
        .build()
}

#[tokio::test]
async fn an_adapter_outside_the_crate_carries_rooms_and_broadcasts() {
    let log = Log::default();
    let io = server(log.clone());
    let app = axum::Router::new().layer(io.layer());
    let mut a = TestClient::connect(app.clone(), "/").await.unwrap();
    let mut b = TestClient::connect(app.clone(), "/").await.unwrap();
    a.set_timeout(Duration::from_millis(300));
    b.set_timeout(Duration::from_millis(300));

    // A socket's rooms live in the outside adapter: its own id's, and the one it joined.
    a.emit("join", "red").await.unwrap();
    let (event, args) = a.recv().await.unwrap();
    assert_eq!(event, "joined");
    let mut want = vec![a.socket_id().to_owned(), "red".to_owned()];
    want.sort();
    assert_eq!(args, [Value::from(serde_json::json!(want))]);

    // A room broadcast, binary included, reaches the room only, through the adapter.
    io.to("red")
        .emit("news", &(1, Bytes::from_static(b"\x00\x01")))
        .await
        .unwrap();
    let (event, args) = a.recv().await.unwrap();
    assert_eq!(event, "news");
    assert_eq!(
        args,
        [
            Value::from(1),
            Value::Binary(Bytes::from_static(b"\x00\x01"))
        ]
    );
    assert!(b.recv().await.is_err(), "b is not in the room");
    assert_eq!(
        log.lock().unwrap().as_slice(),
        [r#"451-["news",1,{"_placeholder":true,"num":0}]"#]
    );

    // Server-side utilities go through it too.
    io.of("/").unwrap().sockets_join("all").await.unwrap();
    io.to("all").emit("everyone", &()).await.unwrap();
    assert_eq!(a.recv().await.unwrap().0, "everyone");
    assert_eq!(b.recv().await.unwrap().0, "everyone");
    io.of("/")
        .unwrap()
        .except("red")
        .sockets_leave("all")
        .await
        .unwrap();
    io.to("all").emit("still", &()).await.unwrap();
    assert_eq!(a.recv().await.unwrap().0, "still");
    assert!(b.recv().await.is_err(), "b left the room");

    io.to("red").disconnect_sockets(false).await.unwrap();
    let left: Vec<String> = io.sockets("/").iter().map(|s| s.id().to_string()).collect();
    assert_eq!(left, [b.socket_id().to_owned()]);
}
