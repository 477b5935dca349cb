// The distributed bindings of the main extension, exposed by pnpdist.mpi (python/pnpdist/mpi.py):
// pnpdist.mpi.Communicator (instances come from the MPI extension's world() and from_mpi4py(), and from split())
// DistributedProjector2D / DistributedProjector3D (distributed.hpp: one template, bound by bind_projector) and
// DistributedOperator (any bound operator as this rank's rows); the members they share are bound by
// bind_row_distributed over the same gradient / data_fidelity templates.
// Nothing here calls MPI directly: the communicator does.

#include "distributed.hpp"

#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <climits>
#include <cstring>
#include <optional>
#include <string>

#include "bindings.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/physics/ct/split_views.hpp"
#include "pnpdist/tensor/algebra.hpp"

namespace pnpdist::python {

namespace {

/// The round-robin dealing of `blocks` blocks of `geometry`'s views to `ranks` ranks, checked first.
template <class Geometry>
Assignment deal_blocks(const Geometry& geometry, index_t blocks, int ranks) {
  require(blocks >= ranks, [&] {
    return "blocks=" + std::to_string(blocks) + " is fewer than the " + std::to_string(ranks) +
           " ranks: every rank needs at least one block of views";
  });
  require(blocks <= geometry.views(), [&] {
    return "blocks=" + std::to_string(blocks) + " is more than the geometry's " + std::to_string(geometry.views()) +
           " views: every block needs at least one view";
  });
  return Dealing::round_robin().deal(blocks, ranks);
}

index_t local_view_count(const std::vector<Block>& blocks, const std::vector<index_t>& mine) {
  index_t views = 0;
  for (const index_t b : mine) views += blocks[static_cast<std::size_t>(b)].size;
  return views;
}

/// The whole projections' shape (views, *detector) of a geometry.
Shape whole_range(const ct::Geometry2D& g) { return {g.views(), g.detector_cols}; }
Shape whole_range(const ct::Geometry3D& g) { return {g.views(), g.detector_rows, g.detector_cols}; }

/// The rows of the local blocks of `op` cut out of the whole projections, copied.
template <std::size_t D>
NumpyArray local_rows(const DistributedProjector<D>& op, const ArrayLike& projections) {
  const Shape whole_shape = whole_range(op.geometry());
  const ArrayArg whole = take_array(
      projections, ArraySpec{D == 2 ? "sinogram" : "projections", {DType::float32}, whole_shape, CtOf<D>::whole_rows});
  const index_t row = element_count(whole_shape) / whole_shape[0];
  void* data = nullptr;
  nb::object rows = new_array(DType::float32, op.range_shape(), &data);
  auto* out = static_cast<float*>(data);
  const auto* in = static_cast<const float*>(whole.data());
  for (const index_t b : op.local_blocks()) {
    const auto [begin, end] = op.block_views()[static_cast<std::size_t>(b)];
    const index_t count = (end - begin) * row;
    std::memcpy(out, in + begin * row, static_cast<std::size_t>(count) * sizeof(float));
    out += count;
  }
  return nb::borrow<NumpyArray>(rows);
}

/// The library's gradient of f(x) = 1/2 ||A x - y||^2 of a row-distributed operator (collective).
template <class Op>
NumpyArray gradient(const Op& op, const ArrayLike& x, const ArrayLike& y, const ArrayLike& out) {
  const ArrayArg in = take_array(x, ArraySpec{"x", {DType::float32}, op.domain_shape(), "the operator's domain"});
  const ArrayArg rows = take_array(y, ArraySpec{"y", {DType::float32}, op.range_shape(), rows_description(op)});
  auto [result, g] = output_array(out, "out", DType::float32, op.domain_shape(), "the operator's domain");
  require_disjoint(in.data(), element_count(op.domain_shape()), g, element_count(op.domain_shape()), DType::float32,
                   "out must not overlap x");
  op.communicator().get().check_usable();
  {
    nb::gil_scoped_release release;
    const auto lock = op.lock();
    visit_domain_rank(op, [&](auto rank) {
      constexpr std::size_t R = decltype(rank)::value;
      const auto physics = physics_of<R>(op, static_cast<const float*>(rows.data()));
      physics.gradient(View<const float, R>(static_cast<const float*>(in.data()), physics.domain_shape()),
                       View<float, R>(static_cast<float*>(g), physics.domain_shape()));
    });
  }
  return nb::borrow<NumpyArray>(result);
}

/// f(x) = 1/2 ||A x - y||^2 over every rank's rows of a row-distributed operator (collective).
template <class Op>
double data_fidelity(const Op& op, const ArrayLike& x, const ArrayLike& y) {
  const ArrayArg in = take_array(x, ArraySpec{"x", {DType::float32}, op.domain_shape(), "the operator's domain"});
  const ArrayArg rows = take_array(y, ArraySpec{"y", {DType::float32}, op.range_shape(), rows_description(op)});
  op.communicator().get().check_usable();
  nb::gil_scoped_release release;
  const auto lock = op.lock();
  return visit_domain_rank(op, [&](auto rank) {
    constexpr std::size_t R = decltype(rank)::value;
    const auto physics = physics_of<R>(op, static_cast<const float*>(rows.data()));
    return physics.data_fidelity(View<const float, R>(static_cast<const float*>(in.data()), physics.domain_shape()));
  });
}

/// root's array in `array` (writable, C-contiguous float32 / float64) on every rank. The sizes are compared
/// first (count_differing): every rank raises ValueError when any rank's differs from root's.
void broadcast(const Communicator& comm, const ArrayLike& array, int root) {
  if (root < 0 || root >= comm.size())
    throw nb::value_error(
        ("root must be a rank in [0, " + std::to_string(comm.size()) + "), got " + std::to_string(root)).c_str());
  ArraySpec spec{"array", {}, {}, ""};
  spec.writable = true;
  const ArrayArg a = take_array(array, spec);
  comm.check_usable();
  const std::int64_t bytes = element_count(a.shape) * (a.dtype == DType::float32 ? 4 : 8);
  std::int64_t root_bytes = 0;
  const int differs = count_differing(comm, bytes, root, root_bytes);
  if (differs != 0)
    throw nb::value_error(("broadcast: " + std::to_string(differs) + " rank(s) hold an array of another size than "
                           "root's (" + std::to_string(root_bytes) + " bytes; this rank: " + std::to_string(bytes) +
                           ")").c_str());
  nb::gil_scoped_release release;
  comm.broadcast_bytes(a.mutable_data(), bytes, root);
}

/// `value` as a C int in [low, high], or a RankError naming `name` (TypeError for a non-int, bool included).
int int_argument(nb::handle value, const char* name, long long low, long long high, int rank,
                 std::optional<RankError>& error) {
  if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    if (!error)
      error = RankError{true, std::string("split: ") + name + " must be an int, got " +
                                  nb::type_name(value.type()).c_str() + " on rank " + std::to_string(rank)};
    return 0;
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0 || v < low || v > high) {
    if (!error)
      error = RankError{false, std::string("split: ") + name + " must be in [" + std::to_string(low) + ", " +
                                   std::to_string(high) + "], got " + nb::str(value).c_str() + " on rank " +
                                   std::to_string(rank)};
    return 0;
  }
  return static_cast<int>(v);
}

/// Communicator.split: the arguments checked on every rank (raise_on_every_rank), then MPI_Comm_split.
std::shared_ptr<Communicator> split(const Communicator& comm, nb::handle color, nb::handle key) {
  comm.check_usable();
  std::optional<RankError> error;
  const int c = int_argument(color, "color", 0, INT_MAX, comm.rank(), error);
  const int k = key.is_none() ? comm.rank() : int_argument(key, "key", INT_MIN, INT_MAX, comm.rank(), error);
  raise_on_every_rank(comm, error, "split");
  nb::gil_scoped_release release;
  return comm.split(c, k);
}

/// The (local views, *detector) range of `rank`'s blocks; throws for a bad block count (deal_blocks).
template <class Geometry>
Shape local_range(const Geometry& geometry, index_t blocks, int ranks, int rank) {
  const Assignment assignment = deal_blocks(geometry, blocks, ranks);
  Shape range = whole_range(geometry);
  range[0] = local_view_count(contiguous_blocks(geometry.views(), blocks), assignment.items_of(rank));
  return range;
}

Shape domain_of(const ct::Geometry2D& g) { return {g.volume.rows, g.volume.cols}; }
Shape domain_of(const ct::Geometry3D& g) { return {g.volume.slices, g.volume.rows, g.volume.cols}; }

}  // namespace

void rethrow_on_every_rank(const Communicator& comm, const std::exception_ptr& mine, const std::string& context) {
  int failed = mine ? 1 : 0;
  {
    nb::gil_scoped_release release;
    comm.allreduce_sum(&failed, 1);
  }
  if (mine) std::rethrow_exception(mine);
  if (failed != 0)
    throw nb::value_error((context + ": " + std::to_string(failed) +
                           " other rank(s) refused their arguments (each raises naming its own)")
                              .c_str());
}

void raise_on_every_rank(const Communicator& comm, const std::optional<RankError>& mine, const std::string& context) {
  std::exception_ptr error;
  if (mine && mine->type_error) error = std::make_exception_ptr(nb::type_error(mine->message.c_str()));
  else if (mine) error = std::make_exception_ptr(nb::value_error(mine->message.c_str()));
  rethrow_on_every_rank(comm, error, context);
}

int count_differing(const Communicator& comm, std::int64_t value, int root, std::int64_t& root_value) {
  nb::gil_scoped_release release;
  root_value = value;
  comm.broadcast_bytes(&root_value, sizeof(root_value), root);
  int differs = root_value != value ? 1 : 0;
  comm.allreduce_sum(&differs, 1);
  return differs;
}

template <std::size_t D>
DistributedProjector<D>::DistributedProjector(CommunicatorRef comm, const Geometry& geometry, index_t blocks,
                                              const HostExec& exec)
    : LinearOperator(DType::float32, domain_of(geometry), local_range(geometry, blocks, comm.size(), comm.rank())),
      comm_(std::move(comm)),
      geometry_(geometry),
      exec_(exec),
      assignment_(deal_blocks(geometry, blocks, comm_.size())),
      local_blocks_(assignment_.items_of(comm_.rank())) {
  for (const Block& b : contiguous_blocks(geometry.views(), blocks)) block_views_.emplace_back(b.begin, b.begin + b.size);
  const std::vector<Geometry> split = ct::split_views(geometry, blocks);
  for (const index_t b : local_blocks_)
    local_.push_back(ct::make_projector<float>(exec, split[static_cast<std::size_t>(b)]));
}

template <std::size_t D>
void DistributedProjector<D>::apply_raw(const void* x, void* y) const {
  const View<const float, D> volume(static_cast<const float*>(x), local_[0].domain_shape());
  auto* rows = static_cast<float*>(y);
  for (const Projector& p : local_) {
    const View<float, D> block(rows, p.range_shape());
    p.apply(volume, block);
    rows += block.size();
  }
}

template <std::size_t D>
void DistributedProjector<D>::adjoint_raw(const void* y, void* x) const {
  // The local blocks' adjoints summed in block order, then one allreduce: A^T y on every rank (collective).
  const View<float, D> out(static_cast<float*>(x), local_[0].domain_shape());
  const auto* rows = static_cast<const float*>(y);
  std::optional<Tensor<float, D>> term;
  for (std::size_t i = 0; i < local_.size(); ++i) {
    const View<const float, D> block(rows, local_[i].range_shape());
    rows += block.size();
    if (i == 0) {
      local_[i].apply_adjoint(block, out);
      continue;
    }
    if (!term) term.emplace(local_[0].domain_shape());
    local_[i].apply_adjoint(block, term->view());
    axpy(exec_, 1.0f, term->const_view(), out);
  }
  comm_.allreduce_sum(View<float, 1>(out.data(), Extents<1>{out.size()}));
}

template <std::size_t D>
typename DistributedProjector<D>::Physics DistributedProjector<D>::physics(const float* rows) const {
  std::vector<Tensor<float, D>> measured;
  std::vector<OperatorRef<Projector>> refs;
  for (const Projector& p : local_) {
    refs.push_back(operator_ref(p));
    Tensor<float, D> m(p.range_shape());
    std::memcpy(m.data(), rows, static_cast<std::size_t>(m.size()) * sizeof(float));
    rows += m.size();
    measured.push_back(std::move(m));
  }
  return Physics(comm_, assignment_, StackedPhysics<OperatorRef<Projector>>(std::move(refs), std::move(measured)));
}

template class DistributedProjector<2>;
template class DistributedProjector<3>;

DistributedOperator::DistributedOperator(CommunicatorRef comm, nb::object owner, const LinearOperator& local)
    : LinearOperator(DType::float32, local.domain_shape(), local.range_shape()),
      comm_(std::move(comm)),
      owner_(std::move(owner)),
      local_(&local),
      assignment_(Dealing::round_robin().deal(comm_.size(), comm_.size())) {}

void DistributedOperator::apply_raw(const void* x, void* y) const {
  const std::lock_guard<std::mutex> lock(local_->mutex());
  local_->apply_raw(x, y);
}

void DistributedOperator::adjoint_raw(const void* y, void* x) const {
  {
    const std::lock_guard<std::mutex> lock(local_->mutex());
    local_->adjoint_raw(y, x);
  }
  comm_.allreduce_sum(View<float, 1>(static_cast<float*>(x), Extents<1>{element_count(domain_shape())}));
}

namespace {

/// The members every row-distributed operator's class has: communicator, gradient and data_fidelity.
template <class Op>
void bind_row_distributed(nb::class_<Op, LinearOperator>& cls) {
  cls.def_prop_ro("communicator", [](const Op& op) { return op.communicator().shared(); })
      .def("gradient", &gradient<Op>, nb::arg("x"), nb::arg("y"), nb::arg("out") = nb::none(),
           "grad f(x) = A^T (A x - y) of f(x) = 1/2 ||A x - y||^2, y this rank's rows of the measurements: the "
           "whole gradient on every rank (the library's DistributedPhysics; collective).")
      .def("data_fidelity", &data_fidelity<Op>, nb::arg("x"), nb::arg("y"),
           "f(x) = 1/2 ||A x - y||^2 over every rank's rows, in double (collective).");
}

/// An operator argument as the signatures name it (`LinearOperator`): any object, checked by local_operator().
class OperatorArg : public nb::object {
  NB_OBJECT_DEFAULT(OperatorArg, object, "LinearOperator", detail::any_object)
};

/// `local` as DistributedOperator takes it (a float32 LinearOperator of domain rank 2 or 3, not itself
/// distributed), or nullptr and this rank's refusal in `error`.
const LinearOperator* local_operator(nb::handle local, int rank, std::optional<RankError>& error) {
  const std::string type = nb::type_name(local.type()).c_str();
  const std::string on = " on rank " + std::to_string(rank);
  const LinearOperator* op = nullptr;
  if (!nb::try_cast<const LinearOperator*>(local, op) || op == nullptr) {
    error = RankError{true, "DistributedOperator: local must be a pnpdist.LinearOperator, got " + type + on};
    return nullptr;
  }
  if (op->dtype() != DType::float32)
    error = RankError{true, "DistributedOperator: local must be a float32 operator (the solvers' type), got " +
                                std::string(dtype_name(op->dtype())) + " " + type + on};
  else if (visit_row_distributed(*op, [](const auto&) {}))
    error = RankError{true, "DistributedOperator: local must be this rank's own operator, got a distributed " + type +
                                " (its adjoint is already collective)" + on};
  else if (op->domain_shape().size() != 2 && op->domain_shape().size() != 3)
    error = RankError{
        false, "DistributedOperator: local's domain must be 2D or 3D, got " + shape_string(op->domain_shape()) + on};
  return error ? nullptr : op;
}

/// Every rank's `domain` (2 or 3 axes) equals rank 0's, else ValueError on every rank naming the shapes that
/// differ (collective: one allreduce of every rank's shape).
void require_one_domain(const Communicator& comm, const Shape& domain) {
  constexpr std::size_t slots = 4;  // the number of axes, then the extents
  std::vector<std::int64_t> all(static_cast<std::size_t>(comm.size()) * slots, 0);
  std::int64_t* mine = all.data() + static_cast<std::size_t>(comm.rank()) * slots;
  mine[0] = static_cast<std::int64_t>(domain.size());
  std::copy(domain.begin(), domain.end(), mine + 1);
  {
    nb::gil_scoped_release release;
    comm.allreduce_sum(all.data(), static_cast<index_t>(all.size()));
  }
  const auto shape_of = [&](int r) {
    const std::int64_t* s = all.data() + static_cast<std::size_t>(r) * slots;
    return Shape(s + 1, s + 1 + s[0]);
  };
  std::string differing;
  for (int r = 1; r < comm.size(); ++r)
    if (shape_of(r) != shape_of(0)) differing += ", rank " + std::to_string(r) + "'s " + shape_string(shape_of(r));
  if (!differing.empty())
    throw nb::value_error(("DistributedOperator: every rank's local must have the same domain: rank 0's is " +
                           shape_string(shape_of(0)) + differing)
                              .c_str());
}

void construct_operator(DistributedOperator* self, const OperatorArg& local,
                        std::shared_ptr<Communicator> communicator) {
  if (!communicator) throw nb::type_error("communicator must be a pnpdist.mpi.Communicator, got None");
  communicator->check_usable();
  std::optional<RankError> error;
  const LinearOperator* op = local_operator(local, communicator->rank(), error);
  raise_on_every_rank(*communicator, error, "DistributedOperator");
  require_one_domain(*communicator, op->domain_shape());
  new (self) DistributedOperator(CommunicatorRef(std::move(communicator)), nb::borrow(local), *op);
}

/// The Python class `name` of DistributedProjector<D>.
template <std::size_t D>
void bind_projector(nb::module_& m, const char* name, const char* doc) {
  using Op = DistributedProjector<D>;
  nb::class_<Op, LinearOperator> cls(m, name, doc);
  cls.def(
         "__init__",
         [](Op* self, const typename Op::Geometry& geometry, index_t blocks, std::shared_ptr<Communicator> communicator,
            const ExecutorArg& executor) {
           if (!communicator) throw nb::type_error("communicator must be a pnpdist.mpi.Communicator, got None");
           new (self) Op(CommunicatorRef(std::move(communicator)), geometry, blocks, executor_or_default(executor));
         },
         nb::arg("geometry"), nb::arg("blocks"), nb::arg("communicator"), nb::arg("executor") = nb::none())
      .def_prop_ro("geometry", &Op::geometry, "The whole geometry.")
      .def_prop_ro("blocks", &Op::blocks)
      .def_prop_ro("block_views", &Op::block_views,
                   "Every block's views (begin, end) of the whole geometry, in block order.")
      .def_prop_ro("local_blocks", &Op::local_blocks, "This rank's blocks, increasing.")
      .def("local_rows", &local_rows<D>, nb::arg(D == 2 ? "sinogram" : "projections"),
           D == 2 ? "A copy of this rank's rows of the whole float32 sinogram (views, detector_cols)."
                  : "A copy of this rank's rows of the whole float32 projections (views, detector_rows, "
                    "detector_cols).");
  bind_row_distributed(cls);
}

}  // namespace

void bind_distributed(nb::module_& m) {
  nb::class_<Communicator>(m, "Communicator",
                           "A group of processes (pnpdist.mpi.world(), from_mpi4py(comm), split()): rank in [0, "
                           "size). Every collective (barrier, broadcast, split, a distributed operator's adjoint, "
                           "gradient and data_fidelity, a DistributedDenoiser's denoise, pnpdist.pnp on them) must "
                           "be called by every rank of the group in the same order.")
      .def_prop_ro("rank", &Communicator::rank)
      .def_prop_ro("size", &Communicator::size)
      .def(
          "barrier",
          [](const Communicator& c) {
            c.check_usable();
            nb::gil_scoped_release release;
            c.barrier();
          },
          "Returns once every rank has entered it.")
      .def("broadcast", &broadcast, nb::arg("array"), nb::arg("root") = 0,
           "Overwrites `array` (writable, C-contiguous float32 or float64, of the same size on every rank) with "
           "root's, in place; ValueError on every rank when a rank's size differs from root's.")
      .def("split", &split, nb::arg("color"), nb::arg("key") = nb::none(),
           nb::sig("def split(self, color: int, key: int | None = None) -> Communicator"),
           "A sub-communicator (MPI_Comm_split; collective): the ranks passing the same color (an int >= 0) form "
           "one group, ranked by key (default: their rank here), ties by their rank here. Usable wherever a "
           "Communicator is (DistributedProjector2D / 3D, DistributedDenoiser, pnpdist.pnp on them); freed when its "
           "last reference goes. The arguments are checked on every rank first: when any rank's are refused "
           "(a non-int, a negative color, a key outside the C int range), every rank raises (that rank TypeError "
           "or ValueError naming its value, the others ValueError), so none is left waiting.")
      .def(
          "abort", [](const Communicator& c, int code) { c.abort(code); }, nb::arg("code") = 1,
          "Ends every process of the group with exit code `code` (MPI_Abort); does not return.")
      .def("__repr__", [](const Communicator& c) {
        return "pnpdist.mpi.Communicator(rank=" + std::to_string(c.rank()) + ", size=" + std::to_string(c.size()) + ")";
      });

  bind_projector<2>(
      m, "DistributedProjector2D",
      "Joseph's projector of a Geometry2D whose views are split into `blocks` contiguous blocks (split_views) "
      "dealt round robin to the ranks of `communicator` (block b to rank b mod size; blocks >= size, blocks <= "
      "views). Row-distributed: forward(x) gives this rank's rows (its blocks' sinograms in block order, "
      "range_shape = (local views, detector_cols)); adjoint(y) of this rank's rows is the whole A^T y on every "
      "rank (collective). float32.");
  bind_projector<3>(
      m, "DistributedProjector3D",
      "Joseph's projector of a Geometry3D (parallel or cone beam, circular or from vectors) whose views are split "
      "into `blocks` contiguous blocks (split_views) dealt round robin to the ranks of `communicator` (block b to "
      "rank b mod size; blocks >= size, blocks <= views). Row-distributed: forward(x) gives this rank's rows (its "
      "blocks' projections in block order, range_shape = (local views, detector_rows, detector_cols)); adjoint(y) "
      "of this rank's rows is the whole A^T y on every rank (collective). float32.");

  nb::class_<DistributedOperator, LinearOperator> general(
      m, "DistributedOperator",
      "A row-distributed operator: `local` is this rank's share of the rows, any float32 pnpdist.LinearOperator "
      "(a Blur, a StackedOperator of this rank's blurs or projectors, ...) of domain (H, W) or (D, H, W); every "
      "rank of `communicator` passes its own, all of the same domain (checked on every rank on construction: a "
      "mismatch raises ValueError on every rank naming the shapes). forward(x) is local's (this rank's rows, "
      "range_shape = local's; not collective); adjoint(y) of this rank's rows is the whole A^T y on every rank "
      "(local's adjoint, then a sum over the ranks; collective). local is referenced, not copied, and locked while "
      "it runs.");
  general.def("__init__", &construct_operator, nb::arg("local"), nb::arg("communicator"))
      .def_prop_ro(
          "local", [](const DistributedOperator& op) { return nb::borrow<OperatorArg>(op.owner()); },
          "This rank's operator, as given.");
  bind_row_distributed(general);
}

}  // namespace pnpdist::python
