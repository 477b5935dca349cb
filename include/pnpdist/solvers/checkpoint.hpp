#pragma once
/// \file
/// Solver checkpoints: the state of an iterative solve (iteration, iterate, records so far, step size and
/// a hash of the options that determine the iterates) in one binary file, written atomically.
///
/// Format (version 2, in the byte order of the host that wrote it):
///     "PNPDCKPT" | u32 version | u32 sizeof(value) | u64 options_hash | i32 rank | i32 ranks |
///     i64 iteration | f64 step | f64 elapsed_seconds | u32 tensor rank R | R x i64 extents |
///     u64 record count | records (i64 iteration, 11 f64, 4 u64 each, in IterationRecord's field order, the
///     data-step iteration count as f64; the first is the initialisation, iteration 0) |
///     u64 bytes of the state | the state (x, then the algorithm's extra tensors, each row-major) |
///     u64 FNV-1a 64 checksum of everything before it
///
/// Guarantees: write_checkpoint writes `path.tmp`, fsyncs it, renames it over `path` and fsyncs the
/// directory, so `path` is always either the previous complete checkpoint or the new complete one, whatever
/// moment the process is killed at; the checkpoint it replaces is kept as `path.prev` (see write_checkpoint), so
/// processes killed between their renames can all go back to a common iteration. read_checkpoint throws io_error naming
/// the file and the problem (missing, a directory, truncated, bad magic, unknown version, checksum mismatch,
/// inconsistent sizes, a field out of its range); it never returns a partly read state. read_checkpoint_or_previous
/// falls back to `path.prev`, with a warning, when `path` is unreadable.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/solvers/iteration_record.hpp"

namespace pnpdist {

/// The state a checkpoint holds (x as raw bytes of its element type).
struct Checkpoint {
  std::uint64_t options_hash = 0;
  int rank = 0;
  int ranks = 1;
  index_t iteration = 0;
  double step = 0;
  double elapsed_seconds = 0;
  std::uint32_t value_size = 0;
  std::vector<index_t> extents;
  std::vector<IterationRecord> records;
  std::vector<unsigned char> data;
};

inline constexpr std::uint32_t checkpoint_version = 2;

namespace detail {

inline constexpr char checkpoint_magic[8] = {'P', 'N', 'P', 'D', 'C', 'K', 'P', 'T'};

/// FNV-1a 64 of a byte range, continuing from `hash`.
inline std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t hash = 14695981039346656037ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

class CheckpointWriter {
public:
  template <class V>
  void put(const V& value) {
    const auto* p = reinterpret_cast<const unsigned char*>(&value);
    bytes.insert(bytes.end(), p, p + sizeof(V));
  }
  void put_bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    bytes.insert(bytes.end(), p, p + n);
  }
  std::vector<unsigned char> bytes;
};

class CheckpointReader {
public:
  CheckpointReader(const std::vector<unsigned char>& bytes, std::size_t end, const std::string& path)
      : bytes_(bytes), end_(end), path_(path) {}
  template <class V>
  V get(const char* what) {
    V value;
    need(sizeof(V), what);
    std::memcpy(&value, bytes_.data() + at_, sizeof(V));
    at_ += sizeof(V);
    return value;
  }
  void get_bytes(unsigned char* out, std::size_t n, const char* what) {
    need(n, what);
    if (n > 0) std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
  }
  [[nodiscard]] std::size_t remaining() const { return end_ - at_; }

private:
  void need(std::size_t n, const char* what) const {
    if (n > end_ - at_)
      throw io_error("checkpoint " + path_ + ": truncated or inconsistent (the " + what + " does not fit in the file)");
  }
  const std::vector<unsigned char>& bytes_;
  std::size_t end_;
  std::size_t at_ = 0;
  const std::string& path_;
};

inline void write_all(int fd, const unsigned char* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t written = ::write(fd, data, n);
    if (written < 0) {
      if (errno == EINTR) continue;
      const int code = errno;
      ::close(fd);
      throw io_error("checkpoint " + path + ": write failed: " + std::strerror(code));
    }
    data += written;
    n -= static_cast<std::size_t>(written);
  }
}

}  // namespace detail

/// True when a checkpoint file exists at `path`.
[[nodiscard]] inline bool checkpoint_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

/// Where write_checkpoint keeps the previous checkpoint of `path`: `path.prev`.
[[nodiscard]] inline std::string previous_checkpoint_path(const std::string& path) { return path + ".prev"; }

/// Throws io_error when `path` names a directory: a checkpoint path names a file.
inline void require_not_directory(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    throw io_error("checkpoint " + path +
                   " is a directory: the checkpoint path names the checkpoint file (its folder must exist)");
}

/// Writes `state` to `path` atomically (see the file comment). With keep_previous, the checkpoint `path` held
/// before is kept as previous_checkpoint_path(path) (a hard link made before the rename, so `path` never
/// disappears). Throws io_error naming the file.
inline void write_checkpoint(const std::string& path, const Checkpoint& state, bool keep_previous = true) {
  detail::CheckpointWriter w;
  w.put_bytes(detail::checkpoint_magic, sizeof(detail::checkpoint_magic));
  w.put(checkpoint_version);
  w.put(state.value_size);
  w.put(state.options_hash);
  w.put(static_cast<std::int32_t>(state.rank));
  w.put(static_cast<std::int32_t>(state.ranks));
  w.put(static_cast<std::int64_t>(state.iteration));
  w.put(state.step);
  w.put(state.elapsed_seconds);
  w.put(static_cast<std::uint32_t>(state.extents.size()));
  for (index_t e : state.extents) w.put(static_cast<std::int64_t>(e));
  w.put(static_cast<std::uint64_t>(state.records.size()));
  for (const IterationRecord& r : state.records) {
    w.put(static_cast<std::int64_t>(r.iteration));
    for (double v :
         {r.wall_seconds, r.iteration_seconds, r.gradient_seconds, r.denoiser_seconds, r.data_fidelity, r.psnr, r.ssim,
          r.relative_change, r.relative_residual_change, r.denoiser_sigma, static_cast<double>(r.data_step_iterations)})
      w.put(v);
    for (std::size_t v : {r.peak_rss_gradient_bytes, r.peak_rss_denoiser_bytes, r.peak_tracked_gradient_bytes,
                          r.peak_tracked_denoiser_bytes})
      w.put(static_cast<std::uint64_t>(v));
  }
  w.put(static_cast<std::uint64_t>(state.data.size()));
  w.put_bytes(state.data.data(), state.data.size());
  w.put(detail::fnv1a(w.bytes.data(), w.bytes.size()));

  require_not_directory(path);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("checkpoint " + tmp + ": cannot create: " + std::strerror(errno));
  detail::write_all(fd, w.bytes.data(), w.bytes.size(), tmp);
  if (::fsync(fd) != 0) {
    const int code = errno;
    ::close(fd);
    throw io_error("checkpoint " + tmp + ": fsync failed: " + std::strerror(code));
  }
  if (::close(fd) != 0) throw io_error("checkpoint " + tmp + ": close failed: " + std::strerror(errno));
  if (keep_previous && checkpoint_exists(path)) {
    const std::string previous = previous_checkpoint_path(path);
    std::remove(previous.c_str());
    if (::link(path.c_str(), previous.c_str()) != 0)
      throw io_error("checkpoint " + path + ": cannot keep the previous checkpoint as " + previous + ": " +
                     std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw io_error("checkpoint " + path + ": cannot rename " + tmp + " over it: " + std::strerror(errno));
  const std::size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: makes the rename durable
    ::close(dfd);
  }
}

/// Reads and verifies the checkpoint at `path` (see the file comment), the range of every field included
/// (rank in [0, ranks), iteration >= 0, step finite and positive or NaN (no step), finite non-negative elapsed
/// time, non-negative extents,
/// record iterations in [0, iteration]). Throws io_error naming the file and the field.
[[nodiscard]] inline Checkpoint read_checkpoint(const std::string& path) {
  require_not_directory(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("checkpoint " + path + ": cannot open for reading");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr std::size_t min_size = sizeof(detail::checkpoint_magic) + 4 + sizeof(std::uint64_t);
  if (bytes.size() < min_size)
    throw io_error("checkpoint " + path + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), detail::checkpoint_magic, sizeof(detail::checkpoint_magic)) != 0)
    throw io_error("checkpoint " + path + ": not a pnpdist checkpoint (bad magic)");
  const std::size_t body = bytes.size() - sizeof(std::uint64_t);
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + body, sizeof(stored));
  detail::CheckpointReader r(bytes, body, path);
  std::vector<unsigned char> magic(sizeof(detail::checkpoint_magic));
  r.get_bytes(magic.data(), magic.size(), "magic");
  const auto version = r.get<std::uint32_t>("version");
  if (version != checkpoint_version)
    throw io_error("checkpoint " + path + ": format version " + std::to_string(version) + ", this build reads " +
                   std::to_string(checkpoint_version));
  if (detail::fnv1a(bytes.data(), body) != stored)
    throw io_error("checkpoint " + path + ": checksum mismatch (the file is corrupt or was truncated)");
  Checkpoint c;
  c.value_size = r.get<std::uint32_t>("value size");
  c.options_hash = r.get<std::uint64_t>("options hash");
  c.rank = r.get<std::int32_t>("rank");
  c.ranks = r.get<std::int32_t>("rank count");
  c.iteration = static_cast<index_t>(r.get<std::int64_t>("iteration"));
  c.step = r.get<double>("step");
  c.elapsed_seconds = r.get<double>("elapsed time");
  const auto invalid = [&](const std::string& field, const std::string& value) {
    return io_error("checkpoint " + path + ": invalid " + field + " " + value + " (corrupt file)");
  };
  if (c.value_size == 0 || c.value_size > 16) throw invalid("element size", std::to_string(c.value_size));
  if (c.ranks < 1 || c.rank < 0 || c.rank >= c.ranks)
    throw invalid("rank", std::to_string(c.rank) + " of " + std::to_string(c.ranks));
  if (c.iteration < 0) throw invalid("iteration", std::to_string(c.iteration));
  if (!(std::isnan(c.step) || (std::isfinite(c.step) && c.step > 0)))  // NaN: an algorithm without a step
    throw invalid("step", std::to_string(c.step));
  if (!(std::isfinite(c.elapsed_seconds) && c.elapsed_seconds >= 0))
    throw invalid("elapsed time", std::to_string(c.elapsed_seconds));
  const auto rank = r.get<std::uint32_t>("tensor rank");
  if (rank > 16) throw io_error("checkpoint " + path + ": implausible tensor rank " + std::to_string(rank));
  for (std::uint32_t d = 0; d < rank; ++d) {
    c.extents.push_back(static_cast<index_t>(r.get<std::int64_t>("extents")));
    if (c.extents.back() < 0) throw invalid("extent", std::to_string(c.extents.back()));
  }
  const auto count = r.get<std::uint64_t>("record count");
  constexpr std::size_t record_bytes = 8 + 11 * 8 + 4 * 8;
  if (count > r.remaining() / record_bytes)
    throw io_error("checkpoint " + path + ": record count " + std::to_string(count) + " exceeds the file");
  for (std::uint64_t i = 0; i < count; ++i) {
    IterationRecord rec;
    rec.iteration = static_cast<index_t>(r.get<std::int64_t>("records"));
    if (rec.iteration < 0 || rec.iteration > c.iteration)
      throw invalid("record iteration", std::to_string(rec.iteration) + " (the checkpoint is at iteration " +
                                            std::to_string(c.iteration) + ")");
    for (double* v :
         {&rec.wall_seconds, &rec.iteration_seconds, &rec.gradient_seconds, &rec.denoiser_seconds, &rec.data_fidelity,
          &rec.psnr, &rec.ssim, &rec.relative_change, &rec.relative_residual_change, &rec.denoiser_sigma})
      *v = r.get<double>("records");
    const double data_step_iterations = r.get<double>("records");
    if (!(data_step_iterations >= 0 && data_step_iterations < 1e15))
      throw io_error("checkpoint " + path + ": a record holds an invalid data-step iteration count");
    rec.data_step_iterations = static_cast<index_t>(data_step_iterations);
    for (std::size_t* v : {&rec.peak_rss_gradient_bytes, &rec.peak_rss_denoiser_bytes, &rec.peak_tracked_gradient_bytes,
                           &rec.peak_tracked_denoiser_bytes})
      *v = static_cast<std::size_t>(r.get<std::uint64_t>("records"));
    c.records.push_back(rec);
  }
  const auto data_bytes = r.get<std::uint64_t>("data size");
  if (data_bytes != r.remaining())
    throw io_error("checkpoint " + path + ": the iterate holds " + std::to_string(r.remaining()) +
                   " bytes, the header says " + std::to_string(data_bytes));
  c.data.resize(static_cast<std::size_t>(data_bytes));
  r.get_bytes(c.data.data(), c.data.size(), "iterate");
  return c;
}

/// Reads the checkpoint at `path`, or, when it is unreadable (corrupt, truncated, invalid fields) and
/// previous_checkpoint_path(path) reads, that previous one, after writing a warning naming both files and
/// the problem to `warnings`. The unreadable file is then moved aside to `path.corrupt`, so that the next
/// write_checkpoint keeps the good previous one as `.prev`. Throws io_error when `path` is a directory, or
/// when neither file reads (the message names the problem of each).
[[nodiscard]] inline Checkpoint read_checkpoint_or_previous(const std::string& path, std::ostream& warnings = std::cerr) {
  require_not_directory(path);
  try {
    return read_checkpoint(path);
  } catch (const io_error& latest) {
    const std::string previous = previous_checkpoint_path(path);
    if (!checkpoint_exists(previous)) throw;
    Checkpoint c;
    try {
      c = read_checkpoint(previous);
    } catch (const io_error& older) {
      throw io_error(latest.message() + "; the previous checkpoint cannot be read either: " + older.message());
    }
    const std::string aside = path + ".corrupt";
    const bool moved = std::rename(path.c_str(), aside.c_str()) == 0;
    warnings << "pnpdist: warning: " << latest.message() << "; resuming from the previous checkpoint " << previous
             << " (iteration " << c.iteration << ")" << (moved ? "; the unreadable file is kept as " + aside : "")
             << "\n";
    return c;
  }
}

}  // namespace pnpdist
