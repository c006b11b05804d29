---------------------------- MODULE Handover ----------------------------
(***************************************************************************)
(* The handover of one stateful partition between processes of a scaled-   *)
(* out job (Sources/Ingest/ScaleOut/StatefulStage.swift). Partitions are    *)
(* independent, so one stands for all.                                      *)
(*                                                                          *)
(* The group assigns the partition to at most one process at a time; it     *)
(* can also take it away without asking (the owner's session timed out: it  *)
(* crashed, or stalled and lives on as a zombie that still thinks it owns   *)
(* the partition). A process that takes the partition first opens its       *)
(* transactional producer, which bumps the producer epoch of the            *)
(* partition's transactional id at the brokers (fencing), then restores:    *)
(* its local checkpoint if the changelog's last commit is that checkpoint's *)
(* own, else the changelog's last commit. It processes records (state and   *)
(* pending output advance together) and commits: output, state and position *)
(* in one transaction, which the brokers accept only from the current epoch.*)
(* A graceful revocation commits once more, then lets go.                   *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS
    Procs,      \* the processes of the group
    N,          \* records in the partition
    MaxTakes,   \* bounds: assignments,
    MaxLosses,  \*   sessions lost (crash or stall),
    MaxCrash,   \*   processes killed
    BUG         \* "none", or a deliberately broken variant (see the .cfg files)

None == "none"

VARIABLES
    owner,      \* the group's view: who owns the partition now (or None)
    epoch,      \* the brokers' producer epoch of the partition's transactional id
    committed,  \* the changelog's last commit: [ver, pos]
    out,        \* committed output: the records' ids, in commit order
    phase,      \* per process: "idle", "fenced" (producer opened), "restored" (buggy order only), "running"
    myEpoch,    \* per process: the epoch its producer holds
    pos,        \* per process: records applied (the state and the position, kept together)
    pend,       \* per process: output since its last commit
    local,      \* per process: its local checkpoint [ver, pos] (survives a crash)
    takes, losses, crashes

vars == <<owner, epoch, committed, out, phase, myEpoch, pos, pend, local, takes, losses, crashes>>

Commit == [ver : Nat, pos : 0..N]
NoCommit == [ver |-> 0, pos |-> 0]

TypeOK ==
    /\ owner \in Procs \cup {None}
    /\ epoch \in Nat
    /\ committed \in Commit
    /\ phase \in [Procs -> {"idle", "fenced", "restored", "running"}]
    /\ myEpoch \in [Procs -> Nat]
    /\ pos \in [Procs -> 0..N]
    /\ local \in [Procs -> Commit]

Init ==
    /\ owner = None
    /\ epoch = 0
    /\ committed = NoCommit
    /\ out = <<>>
    /\ phase = [p \in Procs |-> "idle"]
    /\ myEpoch = [p \in Procs |-> 0]
    /\ pos = [p \in Procs |-> 0]
    /\ pend = [p \in Procs |-> <<>>]
    /\ local = [p \in Procs |-> NoCommit]
    /\ takes = 0 /\ losses = 0 /\ crashes = 0

\* The group assigns the partition to a process that holds none of it.
Assign(p) ==
    /\ owner = None /\ phase[p] = "idle" /\ takes < MaxTakes
    /\ owner' = p /\ takes' = takes + 1
    /\ UNCHANGED <<epoch, committed, out, phase, myEpoch, pos, pend, local, losses, crashes>>

\* Where a restore takes its state from: the local checkpoint only if it is the changelog's
\* last commit (the broken variant trusts any local checkpoint).
RestoreFrom(p) ==
    IF local[p] = committed \/ (BUG = "trust-local" /\ local[p] # NoCommit) THEN local[p] ELSE committed

\* initTransactions: bumps the epoch, fencing every earlier producer of the partition.
Fence(p) ==
    /\ owner = p
    /\ \/ phase[p] = "idle" /\ BUG # "restore-before-fence"
       \/ phase[p] = "restored" /\ BUG = "restore-before-fence"
    /\ epoch' = IF BUG = "no-fencing" THEN epoch ELSE epoch + 1
    /\ myEpoch' = [myEpoch EXCEPT ![p] = epoch']
    /\ phase' = [phase EXCEPT ![p] = IF BUG = "restore-before-fence" THEN "running" ELSE "fenced"]
    /\ UNCHANGED <<owner, committed, out, pos, pend, local, takes, losses, crashes>>

\* Reading the changelog (and the local checkpoint): state and position restored together.
Restore(p) ==
    /\ owner = p
    /\ \/ phase[p] = "fenced" /\ BUG # "restore-before-fence"
       \/ phase[p] = "idle" /\ BUG = "restore-before-fence"
    /\ pos' = [pos EXCEPT ![p] = RestoreFrom(p).pos]
    /\ pend' = [pend EXCEPT ![p] = <<>>]
    /\ phase' = [phase EXCEPT ![p] = IF BUG = "restore-before-fence" THEN "restored" ELSE "running"]
    /\ UNCHANGED <<owner, epoch, committed, out, myEpoch, local, takes, losses, crashes>>

\* A running process applies the next record: state, position and pending output advance.
\* A zombie (the group took the partition away unbeknown to it) goes on doing so.
Process(p) ==
    /\ phase[p] = "running" /\ pos[p] < N
    /\ pos' = [pos EXCEPT ![p] = @ + 1]
    /\ pend' = [pend EXCEPT ![p] = Append(@, pos[p] + 1)]
    /\ UNCHANGED <<owner, epoch, committed, out, phase, myEpoch, local, takes, losses, crashes>>

\* The commit transaction: accepted only from the current epoch. A fenced producer's commit
\* fails, and the process drops the partition (its pending output never becomes visible).
CommitNew(p) ==
    LET c == [ver |-> committed.ver + 1, pos |-> pos[p]] IN
    /\ committed' = c
    /\ out' = out \o pend[p]
    /\ pend' = [pend EXCEPT ![p] = <<>>]
    /\ local' = [local EXCEPT ![p] = c]

Fenced(p) == myEpoch[p] # epoch

DoCommit(p) ==
    /\ phase[p] = "running" /\ pend[p] # <<>>
    /\ IF Fenced(p)
       THEN /\ phase' = [phase EXCEPT ![p] = "idle"]
            /\ pend' = [pend EXCEPT ![p] = <<>>]
            /\ UNCHANGED <<committed, out, local>>
       ELSE /\ CommitNew(p)
            /\ UNCHANGED phase
    /\ UNCHANGED <<owner, epoch, myEpoch, pos, takes, losses, crashes>>

\* A graceful revocation: one more commit (if not fenced), then the partition is let go.
Revoke(p) ==
    /\ owner = p /\ phase[p] = "running"
    /\ IF Fenced(p) \/ pend[p] = <<>>
       THEN UNCHANGED <<committed, out, local>>
       ELSE CommitNew(p)
    /\ pend' = [pend EXCEPT ![p] = <<>>]
    /\ phase' = [phase EXCEPT ![p] = "idle"]
    /\ owner' = None
    /\ UNCHANGED <<epoch, myEpoch, pos, takes, losses, crashes>>

\* The owner's session times out: the group moves on without it. It may still be alive.
LoseSession ==
    /\ owner # None /\ losses < MaxLosses
    /\ owner' = None /\ losses' = losses + 1
    /\ UNCHANGED <<epoch, committed, out, phase, myEpoch, pos, pend, local, takes, crashes>>

\* A zombie learns its session was lost: it drops the partition without committing.
NoticeLoss(p) ==
    /\ owner # p /\ phase[p] # "idle"
    /\ phase' = [phase EXCEPT ![p] = "idle"]
    /\ pend' = [pend EXCEPT ![p] = <<>>]
    /\ UNCHANGED <<owner, epoch, committed, out, myEpoch, pos, local, takes, losses, crashes>>

\* kill -9: memory is gone, the local checkpoint stays; the group notices later (LoseSession).
Crash(p) ==
    /\ crashes < MaxCrash /\ phase[p] # "idle"
    /\ phase' = [phase EXCEPT ![p] = "idle"]
    /\ pend' = [pend EXCEPT ![p] = <<>>]
    /\ pos' = [pos EXCEPT ![p] = 0]
    /\ crashes' = crashes + 1
    /\ UNCHANGED <<owner, epoch, committed, out, myEpoch, local, takes, losses>>

Next ==
    \/ \E p \in Procs : Assign(p) \/ Fence(p) \/ Restore(p) \/ Process(p) \/ DoCommit(p)
                        \/ Revoke(p) \/ NoticeLoss(p) \/ Crash(p)
    \/ LoseSession

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
\* At most one process owns the partition's state and can still commit it.
NoTwoCommitters ==
    \A p, q \in Procs : (p # q /\ phase[p] = "running" /\ phase[q] = "running") => (Fenced(p) \/ Fenced(q))

\* The committed output is every record up to the committed position, once each, in order:
\* nothing lost, nothing repeated, and it agrees with the committed state.
OutputMatchesState ==
    out = [i \in 1..committed.pos |-> i]

\* A running, unfenced owner's state continues the committed one.
OwnerContinuesCommitted ==
    \A p \in Procs : (phase[p] = "running" /\ ~Fenced(p)) => pos[p] = committed.pos + Len(pend[p])
=============================================================================
