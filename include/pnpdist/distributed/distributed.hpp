#pragma once
/// \file
/// The distribution module: the Communicator concept and its implementations (SelfCommunicator, always;
/// MpiCommunicator and mpi::Environment with pnpdist::mpi; NcclCommunicator with pnpdist::nccl), dealing of
/// items to ranks, DistributedPhysics (operators dealt to ranks, gradient = local sum + one allreduce),
/// DistributedDenoiser (tiles dealt to ranks, image reassembled on every rank) and run_on_all_ranks
/// (an exception on one rank aborts the job with a message naming the rank), watch_progress (a rank that
/// makes no progress for a given time aborts the job with a message naming it), allgatherv_from_host (host
/// buffers over a communicator of any memory space).

#include "pnpdist/distributed/communicator.hpp"
#include "pnpdist/distributed/dealing.hpp"
#include "pnpdist/distributed/distributed_denoiser.hpp"
#include "pnpdist/distributed/distributed_physics.hpp"
#include "pnpdist/distributed/failure.hpp"
#include "pnpdist/distributed/host_exchange.hpp"
#include "pnpdist/distributed/mpi/mpi_communicator.hpp"
#include "pnpdist/distributed/nccl/nccl_communicator.hpp"
#include "pnpdist/distributed/progress_watchdog.hpp"
#include "pnpdist/distributed/self_communicator.hpp"
