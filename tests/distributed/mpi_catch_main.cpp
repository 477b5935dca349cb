// Catch2 main for the tests that run under mpirun: every rank runs the same test cases in the same order on
// MPI_COMM_WORLD. A failed assertion (or an unexpected exception) on any rank prints the failure with the
// rank and aborts the whole job (MPI_Abort): the other ranks, possibly waiting in a collective call of the
// same test case, are ended instead of hanging. At the end the ranks agree on the result (one allreduce).
// A rank that makes no progress for 60 s (a hang: no collective call entered or left, no solver iteration)
// ends the job too, with the rank named (watch_progress), before CTest's timeout of 120 s.
#define CATCH_CONFIG_RUNNER
#include <pnpdist/distributed/failure.hpp>
#include <pnpdist/distributed/mpi/mpi_communicator.hpp>
#include <pnpdist/distributed/progress_watchdog.hpp>

#include <catch2/catch.hpp>
#include <sstream>

namespace {

class AbortOnFailure : public Catch::TestEventListenerBase {
public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(Catch::TestCaseInfo const& info) override { test_case_ = info.name; }

  bool assertionEnded(Catch::AssertionStats const& stats) override {
    const Catch::AssertionResult& result = stats.assertionResult;
    if (result.isOk()) return true;
    std::ostringstream message;
    message << "test case '" << test_case_ << "' failed at " << result.getSourceInfo().file << ":"
            << result.getSourceInfo().line << ": " << result.getExpressionInMacro();
    if (result.hasExpandedExpression()) message << " with expansion " << result.getExpandedExpression();
    if (result.hasMessage()) message << " (" << result.getMessage() << ")";
    for (const Catch::MessageInfo& info : stats.infoMessages) message << " [" << info.message << "]";
    pnpdist::abort_with_message(pnpdist::MpiCommunicator(), message.str());
  }

private:
  std::string test_case_;
};

}  // namespace

CATCH_REGISTER_LISTENER(AbortOnFailure)

int main(int argc, char** argv) {
  pnpdist::mpi::Environment environment(argc, argv);
  const pnpdist::MpiCommunicator world = environment.world();
  const auto watch = pnpdist::watch_progress(world, 60.0);
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const int failed = session.run();
  const double failed_anywhere = world.allreduce_sum(static_cast<double>(failed));
  return failed_anywhere == 0.0 ? 0 : 1;
}
