#pragma once
/// \file
/// The error hierarchy. Every exception records the source file and line that raised it (file(), line()).
/// what() is the message itself, for the user; debug builds (NDEBUG not defined) append
/// " [raised at file:line]" for the developer. Host code validates arguments and throws; kernels never throw.

#include <concepts>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pnpdist {

// The derived classes spell out their constructors: inheriting a constructor whose default argument is
// std::source_location::current() crashes nvcc 13.0.

/// Base of every exception the library throws.
class error : public std::runtime_error {
public:
  explicit error(const std::string& message, std::source_location where = std::source_location::current())
      : std::runtime_error(format(message, where)), message_(message), file_(where.file_name()), line_(where.line()) {}

  /// The message without the location prefix.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  [[nodiscard]] const char* file() const noexcept { return file_; }
  [[nodiscard]] unsigned line() const noexcept { return line_; }

private:
  static std::string format(const std::string& message, [[maybe_unused]] const std::source_location& where) {
#if defined(NDEBUG)
    return message;
#else
    return message + " [raised at " + where.file_name() + ":" + std::to_string(where.line()) + "]";
#endif
  }
  std::string message_;
  const char* file_;
  unsigned line_;
};

/// Shapes, ranks or sizes of arguments that do not fit together.
class dimension_mismatch : public error {
public:
  explicit dimension_mismatch(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};
/// An argument value outside its documented domain (negative size, NaN parameter, zero-length vector...).
class invalid_argument : public error {
public:
  explicit invalid_argument(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};
/// A file that cannot be opened, read, written, or whose contents are corrupt.
class io_error : public error {
public:
  explicit io_error(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};
/// A feature whose optional dependency was not compiled into this build.
class not_compiled : public error {
public:
  explicit not_compiled(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};
/// A failed CUDA runtime or library call.
class cuda_error : public error {
public:
  explicit cuda_error(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};
/// A failed MPI or NCCL call, or a failure reported by another rank.
class mpi_error : public error {
public:
  explicit mpi_error(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};

/// A computation that produced NaN or infinity: non-finite input data, or an iterate that became non-finite.
class numerical_error : public error {
public:
  explicit numerical_error(const std::string& message, std::source_location where = std::source_location::current())
      : error(message, where) {}
};

/// Throws `Error(message)` carrying the caller's location when `condition` is false.
template <class Error = invalid_argument>
inline void require(bool condition, std::string_view message,
                    std::source_location where = std::source_location::current()) {
  if (!condition) throw Error(std::string(message), where);
}

/// The same with a message built only on failure: `make_message()` returns the text. For checks on hot
/// paths, where formatting shapes or numbers into a string on every call would cost more than the work.
template <class Error = invalid_argument, std::invocable MessageFn>
inline void require(bool condition, MessageFn&& make_message,
                    std::source_location where = std::source_location::current()) {
  if (!condition) throw Error(std::string(make_message()), where);
}

}  // namespace pnpdist
