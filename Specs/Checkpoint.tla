----------------------------- MODULE Checkpoint -----------------------------
(***************************************************************************)
(* Vigil's checkpoint protocol (Sources/Stream/Checkpoint/FORMAT.md):      *)
(* asynchronous barrier snapshots with alignment, acknowledgements,        *)
(* completion by the coordinator, commit of a two-phase-commit sink after  *)
(* completion, aborts, and crash/restore from the newest complete          *)
(* checkpoint.                                                              *)
(*                                                                         *)
(* Topology: sources S (each reads its own input of N records) feed, over  *)
(* one FIFO channel each, a single task holding a stateful operator        *)
(* (it folds records into its state) chained with a 2PC sink (it adds each *)
(* record to its open transaction). That task has |S| input channels, so  *)
(* it must align barriers.                                                  *)
(*                                                                         *)
(* BUG selects a deliberately broken variant, to show the invariants have  *)
(* teeth: "none" is the protocol as built.                                 *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    S,          \* source tasks
    N,          \* records per source
    MaxCkpt,    \* checkpoint ids 1..MaxCkpt
    MaxCrash,   \* crashes allowed
    BUG         \* "none" | "commit-on-first-ack" | "restore-old-positions"

Op == "op"                      \* the operator + sink task
Tasks == S \cup {Op}
Ids == 1..MaxCkpt
Rec == S \X (1..N)              \* record i of source s
Msg == [type: {"rec"}, r: Rec] \cup [type: {"bar"}, id: Ids]
NoPos == [s \in S |-> 0]

VARIABLES
    pos,         \* next record each source reads is pos[s] + 1
    chan,        \* chan[s]: the channel from source s to the op task
    blocked,     \* alignment: channel s delivered the barrier being aligned
    alignId,     \* the checkpoint being aligned (0: none)
    opState,     \* records folded into the operator's state
    txn,         \* records in the sink's open transaction
    pending,     \* pre-committed transactions: set of <<checkpoint id, records>>
    committed,   \* committed (visible) transactions: set of <<checkpoint id, records>>
    nextId,      \* next checkpoint id
    inflight,    \* the running checkpoint (0: none)
    triggered,   \* triggered[s]: the checkpoint whose trigger source s has not yet handled (0: none)
    acks,        \* tasks that acknowledged `inflight`
    snapPos,     \* durable source positions per checkpoint id (written with the ack)
    snapState,   \* durable operator state per checkpoint id
    snapPending, \* durable pending transactions per checkpoint id
    completed,   \* checkpoints whose metadata is written (durable, complete)
    crashes

vars == <<pos, chan, blocked, alignId, opState, txn, pending, committed, nextId,
          inflight, triggered, acks, snapPos, snapState, snapPending, completed, crashes>>

Recs(ts) == UNION {t[2] : t \in ts}
InChannels == UNION {{chan[s][i].r : i \in {j \in 1..Len(chan[s]) : chan[s][j].type = "rec"}} : s \in S}
ReadRecs(p) == {<<s, i>> \in Rec : i <= p[s]}
Latest == IF completed = {} THEN 0 ELSE CHOOSE c \in completed : \A d \in completed : d <= c

Init ==
    /\ pos = NoPos
    /\ chan = [s \in S |-> <<>>]
    /\ blocked = [s \in S |-> FALSE]
    /\ alignId = 0
    /\ opState = {}
    /\ txn = {}
    /\ pending = {}
    /\ committed = {}
    /\ nextId = 1
    /\ inflight = 0
    /\ triggered = [s \in S |-> 0]
    /\ acks = {}
    /\ snapPos = [i \in Ids |-> NoPos]
    /\ snapState = [i \in Ids |-> {}]
    /\ snapPending = [i \in Ids |-> {}]
    /\ completed = {}
    /\ crashes = 0

\* A source reads its next record (between batches it also handles triggers).
Read(s) ==
    /\ pos[s] < N
    /\ triggered[s] = 0
    /\ chan' = [chan EXCEPT ![s] = Append(@, [type |-> "rec", r |-> <<s, pos[s] + 1>>])]
    /\ pos' = [pos EXCEPT ![s] = @ + 1]
    /\ UNCHANGED <<blocked, alignId, opState, txn, pending, committed, nextId, inflight,
                   triggered, acks, snapPos, snapState, snapPending, completed, crashes>>

\* The coordinator triggers a checkpoint (one at a time).
Trigger ==
    /\ inflight = 0
    /\ nextId <= MaxCkpt
    /\ \A s \in S : triggered[s] = 0   \* (queued triggers are handled in order anyway)
    /\ inflight' = nextId
    /\ nextId' = nextId + 1
    /\ triggered' = [s \in S |-> nextId]
    /\ acks' = {}
    /\ UNCHANGED <<pos, chan, blocked, alignId, opState, txn, pending, committed,
                   snapPos, snapState, snapPending, completed, crashes>>

\* A source snapshots its position, writes it, acknowledges, and emits the barrier — also
\* for a checkpoint aborted meanwhile (its trigger is already in the source's mailbox).
SourceSnapshot(s) ==
    /\ triggered[s] # 0
    /\ triggered' = [triggered EXCEPT ![s] = 0]
    /\ snapPos' = [snapPos EXCEPT ![triggered[s]][s] = pos[s]]
    /\ chan' = [chan EXCEPT ![s] = Append(@, [type |-> "bar", id |-> triggered[s]])]
    /\ acks' = IF inflight = triggered[s] THEN acks \cup {s} ELSE acks
    /\ UNCHANGED <<pos, blocked, alignId, opState, txn, pending, committed, nextId,
                   inflight, snapState, snapPending, completed, crashes>>

\* The op task takes a record from a channel that is not blocked by alignment.
Process(s) ==
    /\ chan[s] # <<>>
    /\ ~blocked[s]
    /\ Head(chan[s]).type = "rec"
    /\ opState' = opState \cup {Head(chan[s]).r}
    /\ txn' = txn \cup {Head(chan[s]).r}
    /\ chan' = [chan EXCEPT ![s] = Tail(@)]
    /\ UNCHANGED <<pos, blocked, alignId, pending, committed, nextId, inflight, triggered,
                   acks, snapPos, snapState, snapPending, completed, crashes>>

\* A barrier arrives: the channel is blocked until the barrier arrived on every channel.
ReceiveBarrier(s) ==
    /\ chan[s] # <<>>
    /\ ~blocked[s]
    /\ Head(chan[s]).type = "bar"
    /\ blocked' = [blocked EXCEPT ![s] = TRUE]
    /\ alignId' = Head(chan[s]).id
    /\ chan' = [chan EXCEPT ![s] = Tail(@)]
    /\ UNCHANGED <<pos, opState, txn, pending, committed, nextId, inflight, triggered,
                   acks, snapPos, snapState, snapPending, completed, crashes>>

\* Aligned: the op task snapshots its state, pre-commits the sink's transaction (it joins
\* the pending ones, all of which go into the snapshot), acknowledges, unblocks.
\* (An acknowledgement for a checkpoint no longer running is ignored by the coordinator.)
OpSnapshot ==
    /\ alignId # 0
    /\ \A s \in S : blocked[s]
    /\ LET closed == IF txn = {} THEN {} ELSE {<<alignId, txn>>}
       IN /\ IF BUG = "commit-on-first-ack"
                THEN /\ committed' = committed \cup closed     \* the bug: commit at once
                     /\ pending' = pending
                ELSE /\ pending' = pending \cup closed
                     /\ committed' = committed
          /\ snapPending' = [snapPending EXCEPT ![alignId] = pending']
    /\ txn' = {}
    /\ snapState' = [snapState EXCEPT ![alignId] = opState]
    /\ acks' = IF inflight = alignId THEN acks \cup {Op} ELSE acks
    /\ blocked' = [s \in S |-> FALSE]
    /\ alignId' = 0
    /\ UNCHANGED <<pos, chan, opState, nextId, inflight, triggered, snapPos, completed, crashes>>

\* Every task acknowledged: the metadata is written; the checkpoint is complete.
Complete ==
    /\ inflight # 0
    /\ acks = Tasks
    /\ completed' = completed \cup {inflight}
    /\ inflight' = 0
    /\ UNCHANGED <<pos, chan, blocked, alignId, opState, txn, pending, committed, nextId,
                   triggered, acks, snapPos, snapState, snapPending, crashes>>

\* The op task hears of a completed checkpoint (at any later time) and commits the pending
\* transactions it covers — including those of earlier, aborted checkpoints.
Commit(c) ==
    /\ c \in completed
    /\ \E t \in pending : t[1] <= c
    /\ committed' = committed \cup {t \in pending : t[1] <= c}
    /\ pending' = {t \in pending : t[1] > c}
    /\ UNCHANGED <<pos, chan, blocked, alignId, opState, txn, nextId, inflight, triggered,
                   acks, snapPos, snapState, snapPending, completed, crashes>>

\* A timeout: the running checkpoint is abandoned; the job goes on.
Abort ==
    /\ inflight # 0
    /\ inflight' = 0
    /\ UNCHANGED <<pos, chan, blocked, alignId, opState, txn, pending, committed, nextId,
                   triggered, acks, snapPos, snapState, snapPending, completed, crashes>>

\* kill -9 and restart: everything volatile is lost; the newest complete checkpoint is
\* restored — positions and state of that same checkpoint — and its pending
\* transactions are committed (again: committing is idempotent). Ids continue.
Crash ==
    /\ crashes < MaxCrash
    /\ crashes' = crashes + 1
    /\ LET l == Latest
           older == IF \E c \in completed : c < l
                    THEN CHOOSE c \in completed : c < l /\ \A d \in completed : d < l => d <= c
                    ELSE 0
           posFrom == IF BUG = "restore-old-positions" THEN older ELSE l
       IN /\ pos' = IF posFrom = 0 THEN NoPos ELSE snapPos[posFrom]
          /\ opState' = IF l = 0 THEN {} ELSE snapState[l]
          /\ committed' = committed \cup (IF l = 0 THEN {} ELSE snapPending[l])
    /\ chan' = [s \in S |-> <<>>]
    /\ blocked' = [s \in S |-> FALSE]
    /\ alignId' = 0
    /\ txn' = {}
    /\ pending' = {}
    /\ inflight' = 0
    /\ triggered' = [s \in S |-> 0]
    /\ acks' = {}
    /\ UNCHANGED <<nextId, snapPos, snapState, snapPending, completed>>

Next ==
    \/ \E s \in S : Read(s) \/ SourceSnapshot(s) \/ Process(s) \/ ReceiveBarrier(s)
    \/ Trigger \/ OpSnapshot \/ Complete \/ Abort \/ Crash
    \/ \E c \in Ids : Commit(c)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants *)

TypeOK ==
    /\ pos \in [S -> 0..N]
    /\ \A s \in S : \A i \in 1..Len(chan[s]) : chan[s][i] \in Msg
    /\ opState \subseteq Rec /\ txn \subseteq Rec
    /\ inflight \in 0..MaxCkpt /\ alignId \in 0..MaxCkpt /\ triggered \in [S -> 0..MaxCkpt]
    /\ completed \subseteq Ids

\* No output is committed from a checkpoint that is not complete: every committed
\* transaction is covered by a complete checkpoint.
NoCommitOfIncompleteCheckpoint ==
    \A t \in committed : \E c \in completed : t[1] <= c

\* State and source positions belong together (also right after a restore): every record
\* read is either in flight or folded into the state, and nothing else is in the state.
StateMatchesPositions ==
    /\ opState \cup InChannels = ReadRecs(pos)
    /\ opState \cap InChannels = {}

\* Output matches the state: every folded record is in exactly one place of the sink —
\* the open transaction, a pending one, or a committed one.
OutputMatchesState ==
    Recs(committed) \cup Recs(pending) \cup txn = opState

\* Exactly once: no record is committed twice ...
NoDuplicateOutput ==
    \A t1, t2 \in committed : t1 # t2 => t1[2] \cap t2[2] = {}

\* ... and once everything is read, processed and committed, every record was committed.
ExactlyOnceAtTheEnd ==
    ((\A s \in S : pos[s] = N /\ chan[s] = <<>>) /\ txn = {} /\ pending = {})
        => Recs(committed) = Rec
=============================================================================
