// The extension module pnpdist._pnpdist_mpi, built only with the MPI component, so that `import pnpdist` never
// needs libmpi; the package's pnpdist.mpi (python/pnpdist/mpi.py) re-exports it. It implements the main
// extension's Communicator (communicator.hpp) over the library's MpiCommunicator: on MPI_COMM_WORLD (world()),
// on a sub-communicator (Communicator.split, MpiCommunicator::split) and on a duplicate of another library's
// communicator (_duplicate, behind pnpdist.mpi.from_mpi4py: MPI_Comm_dup, so that pnpdist's collectives never
// share a communicator with the caller's messages; freed with the last reference).
// MPI's lifetime: importing the module initializes MPI through mpi::Environment (MPI_THREAD_FUNNELED) unless it is
// already initialized (by mpi4py, or by the program embedding Python); at interpreter exit (atexit) the
// Environment finalizes MPI only if it initialized it. Under mpirun every rank is a process of MPI_COMM_WORLD; a
// plain `python` is a singleton of size 1. Every call checks that MPI is not finalized and, below
// MPI_THREAD_SERIALIZED, that it comes from the thread that initialized MPI, raising pnpdist.MpiError otherwise.

#include <nanobind/nanobind.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "communicator.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/distributed/mpi/mpi_communicator.hpp"

namespace pnpdist::python {

namespace {

namespace nb = nanobind;

std::optional<mpi::Environment>& environment() {
  static std::optional<mpi::Environment> env;
  return env;
}

/// Throws mpi_error when MPI is finalized, or when the calling thread may not call MPI.
void check_mpi_usable() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized != 0) throw mpi_error("pnpdist.mpi: MPI has been finalized (at interpreter exit or by another library)");
  int provided = 0, main_thread = 0;
  MPI_Query_thread(&provided);
  MPI_Is_thread_main(&main_thread);
  if (provided < MPI_THREAD_SERIALIZED && main_thread == 0)
    throw mpi_error("pnpdist.mpi: MPI was initialized with MPI_THREAD_FUNNELED: call it from the thread that "
                    "imported pnpdist.mpi (or initialized MPI)");
}

/// A duplicate of a communicator (MPI_Comm_dup, collective over it), freed (MPI_Comm_free) with the last
/// reference unless MPI is finalized by then.
class DuplicatedComm {
public:
  explicit DuplicatedComm(MPI_Comm source) {
    pnpdist::detail::mpi_check(MPI_Comm_dup(source, &comm_), "MPI_Comm_dup");
  }
  DuplicatedComm(const DuplicatedComm&) = delete;
  DuplicatedComm& operator=(const DuplicatedComm&) = delete;
  ~DuplicatedComm() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0 && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  [[nodiscard]] MPI_Comm get() const { return comm_; }

private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

/// The library's MpiCommunicator as the main extension's Communicator; `owner` keeps a duplicated communicator
/// alive (split communicators are owned by the MpiCommunicator itself).
class MpiGroup final : public Communicator {
public:
  explicit MpiGroup(MpiCommunicator comm, std::shared_ptr<const DuplicatedComm> owner = nullptr)
      : comm_(std::move(comm)), owner_(std::move(owner)) {}
  [[nodiscard]] int rank() const override { return comm_.rank(); }
  [[nodiscard]] int size() const override { return comm_.size(); }
  void check_usable() const override { check_mpi_usable(); }
  void allreduce_sum(float* data, index_t count) const override { reduce(data, count); }
  void allreduce_sum(double* data, index_t count) const override { reduce(data, count); }
  void allreduce_sum(int* data, index_t count) const override { reduce(data, count); }
  void allreduce_sum(std::int64_t* data, index_t count) const override { reduce(data, count); }
  void allgatherv(const float* send, float* recv, std::span<const index_t> counts) const override {
    check_mpi_usable();
    index_t total = 0;
    for (const index_t c : counts) total += c;
    const index_t mine = counts.size() == static_cast<std::size_t>(comm_.size())
                             ? counts[static_cast<std::size_t>(comm_.rank())]
                             : 0;
    comm_.allgatherv(View<const float, 1>(send, Extents<1>{mine}), View<float, 1>(recv, Extents<1>{total}), counts);
  }
  void broadcast_bytes(void* data, index_t bytes, int root) const override {
    check_mpi_usable();
    comm_.broadcast(View<unsigned char, 1>(static_cast<unsigned char*>(data), Extents<1>{bytes}), root);
  }
  void barrier() const override {
    check_mpi_usable();
    comm_.barrier();
  }
  [[noreturn]] void abort(int code) const override { comm_.abort(code); }
  [[nodiscard]] std::shared_ptr<Communicator> split(int color, int key) const override {
    check_mpi_usable();
    return std::make_shared<MpiGroup>(comm_.split(color, key));
  }

private:
  template <class T>
  void reduce(T* data, index_t count) const {
    check_mpi_usable();
    comm_.allreduce_sum(View<T, 1>(data, Extents<1>{count}));
  }
  MpiCommunicator comm_;
  std::shared_ptr<const DuplicatedComm> owner_;
};

/// The integer value of an MPI_Comm handle (a pointer in Open MPI, an int in MPICH), as mpi4py gives it.
template <class Handle>
std::uintptr_t handle_value(Handle comm) {
  if constexpr (std::is_pointer_v<Handle>)
    return reinterpret_cast<std::uintptr_t>(comm);
  else
    return static_cast<std::uintptr_t>(comm);
}

/// The MPI_Comm handle of that integer value.
template <class Handle = MPI_Comm>
Handle handle_of(std::uintptr_t value) {
  if constexpr (std::is_pointer_v<Handle>)
    return reinterpret_cast<Handle>(value);
  else
    return static_cast<Handle>(value);
}

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  return std::string(text, static_cast<std::size_t>(length));
}

}  // namespace

}  // namespace pnpdist::python

NB_MODULE(_pnpdist_mpi, m) {
  namespace py = pnpdist::python;
  namespace nb = nanobind;
  m.doc() = "pnpdist's MPI component: the world communicator (pnpdist.mpi re-exports it).";
  // The main extension registers Communicator, which world() returns: pnpdist._pnpdist in the package, the
  // top-level _pnpdist when imported on its own (the stub generator imports both from the package directory).
  const std::string name = nb::cast<std::string>(m.attr("__name__"));
  const std::size_t dot = name.rfind('.');
  nb::module_::import_(dot == std::string::npos ? "_pnpdist" : (name.substr(0, dot) + "._pnpdist").c_str());
  int initialized = 0;
  MPI_Initialized(&initialized);
  const bool owned = initialized == 0;
  py::environment().emplace();
  nb::module_::import_("atexit").attr("register")(nb::cpp_function([] { py::environment().reset(); }));
  m.attr("initialized_here") = owned;
  m.def(
      "world",
      [] {
        py::check_mpi_usable();
        return std::shared_ptr<py::Communicator>(std::make_shared<py::MpiGroup>(pnpdist::MpiCommunicator(MPI_COMM_WORLD)));
      },
      nb::sig("def world() -> Communicator"),
      "The communicator of every process of the job (MPI_COMM_WORLD): under mpirun -np N, N ranks; in a plain "
      "python process, a singleton of size 1.");
  // pnpdist.mpi.from_mpi4py's parts (python/pnpdist/mpi.py checks the communicator before calling _duplicate).
  m.def(
      "_duplicate",
      [](std::uintptr_t handle) {
        py::check_mpi_usable();
        std::shared_ptr<const py::DuplicatedComm> owner;
        {
          nb::gil_scoped_release release;  // collective over the caller's communicator
          owner = std::make_shared<const py::DuplicatedComm>(py::handle_of(handle));
        }
        return std::shared_ptr<py::Communicator>(
            std::make_shared<py::MpiGroup>(pnpdist::MpiCommunicator(owner->get()), owner));
      },
      nb::arg("handle"), nb::sig("def _duplicate(handle: int) -> Communicator"),
      "A Communicator over a duplicate (MPI_Comm_dup, collective) of the intracommunicator whose MPI_Comm "
      "handle value is `handle` (as mpi4py's MPI._handleof gives it); use pnpdist.mpi.from_mpi4py.");
  m.def(
      "_world_handle", [] { return py::handle_value(MPI_COMM_WORLD); },
      "The value of this library's MPI_COMM_WORLD handle (mpi4py's MPI._handleof(MPI.COMM_WORLD) gives the same "
      "number when both use the same MPI library in this process).");
  m.def("library_version", &py::library_version,
        "The MPI library's version string (MPI_Get_library_version), e.g. 'Open MPI v4.1.4, ...'.");
}
