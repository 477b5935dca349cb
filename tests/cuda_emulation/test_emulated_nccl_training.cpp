// Covers: (no kernels: host collectives and LPD training over NcclCommunicator, with MPI standing in for NCCL)
// The NCCL path of data-parallel training (learned/lpd_training.hpp through distributed/host_exchange.hpp), in the
// executable of test_emulated_nccl.cpp (under mpirun -np 1, 2 and 3; the emulator's <nccl.h> serves NCCL with MPI
// and refuses host pointers, so a host buffer handed to NCCL without staging fails here):
//   - allgatherv_from_host over NcclCommunicator delivers the bits MpiCommunicator delivers on host buffers;
//   - LpdTrainer over NcclCommunicator trains, step by step, bitwise the weights and losses of one process
//     (SelfCommunicator), and its evaluation (validation samples split over the ranks, some idle) is the same.
// The emulator completes each call when it is made, so the stream synchronization of the staging is not
// exercised here (a GPU run is).

#include <cuda_runtime.h>
#include <catch2/catch.hpp>

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/distributed/host_exchange.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/distributed/nccl/nccl_communicator.hpp>
#include <pnpdist/learned/lpd_training.hpp>
#include <pnpdist/physics/ct/projector.hpp>

#include <cstddef>
#include <vector>

namespace {

using pnpdist::Cuda;
using pnpdist::Extents;
using pnpdist::HostSpace;
using pnpdist::index_t;
using pnpdist::MpiCommunicator;
using pnpdist::NcclCommunicator;
using pnpdist::Serial;
using pnpdist::View;
namespace learned = pnpdist::learned;

learned::LpdConfig small_config() {
  return {.iterations = 2, .primal_memory = 2, .dual_memory = 2, .width = 3, .prelu_init = 0.2, .seed = 7};
}

pnpdist::nn::train::AdamOptions adam_options() { return {.learning_rate = 1e-2, .total_steps = 4}; }

auto make_projector() { return pnpdist::ct::make_projector<float>(Serial{}, learned::ellipse_geometry(16, 6)); }

}  // namespace

TEST_CASE("allgatherv_from_host over NcclCommunicator (MPI substitute for NCCL) equals MpiCommunicator's",
          "[cuda-emulated][nccl]") {
  static_assert(std::is_same_v<pnpdist::communicator_space_t<NcclCommunicator>, pnpdist::CudaSpace>);
  static_assert(std::is_same_v<pnpdist::communicator_space_t<MpiCommunicator>, HostSpace>);
  const MpiCommunicator world;
  const NcclCommunicator nccl(world, Cuda{});
  const int p = world.size();
  // Rank r sends 2 r + 1 values (counts differ); a fractional pattern so that every bit matters.
  std::vector<index_t> counts(static_cast<std::size_t>(p));
  index_t total = 0;
  for (int r = 0; r < p; ++r) total += counts[static_cast<std::size_t>(r)] = 2 * r + 1;
  std::vector<float> send(static_cast<std::size_t>(counts[static_cast<std::size_t>(world.rank())]));
  for (std::size_t i = 0; i < send.size(); ++i) send[i] = 1.0f / static_cast<float>(3 + world.rank() * 7 + i);
  std::vector<float> over_nccl(static_cast<std::size_t>(total), -1.0f), over_mpi(over_nccl);
  const View<const float, 1, HostSpace> send_view(send.data(), Extents<1>{static_cast<index_t>(send.size())});
  pnpdist::allgatherv_from_host(nccl, send_view, View<float, 1, HostSpace>(over_nccl.data(), Extents<1>{total}),
                                counts);
  pnpdist::allgatherv_from_host(world, send_view, View<float, 1, HostSpace>(over_mpi.data(), Extents<1>{total}),
                                counts);
  CHECK(over_nccl == over_mpi);
  index_t at = 0;
  for (int r = 0; r < p; ++r)
    for (index_t i = 0; i < counts[static_cast<std::size_t>(r)]; ++i, ++at)
      REQUIRE(over_nccl[static_cast<std::size_t>(at)] == 1.0f / static_cast<float>(3 + r * 7 + i));
}

TEST_CASE("LpdTrainer over NcclCommunicator (MPI substitute for NCCL) trains bitwise the weights of one process",
          "[cuda-emulated][nccl]") {
  const MpiCommunicator world;
  const NcclCommunicator nccl(world, Cuda{});
  const auto projector = make_projector();
  const learned::ProjectorLayer layer(projector, learned::inverse_operator_norm(projector));
  constexpr int steps = 3;
  const index_t batch = 3 * world.size() - 1;  // blocks of unequal size on 2 and 3 ranks

  learned::LearnedPrimalDual alone(layer, small_config());
  learned::LpdTrainer one_process(Serial{}, alone, learned::EllipseDataOptions{}, adam_options(), batch);
  learned::LearnedPrimalDual shared(layer, small_config());
  learned::LpdTrainer over_nccl(Serial{}, shared, learned::EllipseDataOptions{}, adam_options(), batch, nccl);
  CHECK(over_nccl.local_batch() == pnpdist::learned::batch_begin(batch, world.size(), world.rank() + 1) -
                                       pnpdist::learned::batch_begin(batch, world.size(), world.rank()));
  for (int t = 0; t < steps; ++t) {
    INFO("step " << t + 1 << " on " << world.size() << " rank(s)");
    CHECK(over_nccl.step() == one_process.step());
    REQUIRE(shared.parameters().values() == alone.parameters().values());
  }
  CHECK(shared.parameters().values() != learned::LearnedPrimalDual(layer, small_config()).parameters().values());
  // 2 validation samples: on 3 ranks one rank has none.
  const learned::LpdEvaluation a = over_nccl.evaluate(learned::DataSplit::validation, 2);
  const learned::LpdEvaluation b = one_process.evaluate(learned::DataSplit::validation, 2);
  CHECK(a.loss == b.loss);
  CHECK(a.psnr == b.psnr);
}
