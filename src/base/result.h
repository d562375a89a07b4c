// Result<T>: a small expected-like type for failures callers must handle (bad files,
// bad requests). clang 14 cannot build libstdc++'s std::expected, so wafer has its own.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/core.h>

namespace wafer {

enum class ErrorCode {
  kInvalidArgument,  // bad flag, bad request field, bad value
  kNotFound,         // file, key, tensor or id that does not exist
  kCorrupt,          // malformed or hostile file contents
  kUnsupported,      // valid input wafer does not handle (architecture, type)
  kOutOfRange,       // limits: context length, sizes
  kIo,               // the operating system said no
  kInternal,
  kResourceExhausted,  // busy: too many requests in flight (retry later)
  kCancelled,          // the caller went away
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

// Holds either a T or an Error. Accessing the wrong alternative is a bug (checked).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return check_value(), std::get<0>(state_); }
  const T& value() const& { return check_value(), std::get<0>(state_); }
  T&& value() && { return check_value(), std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return check_error(), std::get<1>(state_); }
  Error take_error() { return check_error(), std::get<1>(std::move(state_)); }

 private:
  void check_value() const;
  void check_error() const;
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

[[noreturn]] void result_access_failure(const char* what);

template <typename T>
void Result<T>::check_value() const {
  if (state_.index() != 0) result_access_failure(std::get<1>(state_).message.c_str());
}
template <typename T>
void Result<T>::check_error() const {
  if (state_.index() != 1) result_access_failure("error() called on a Result holding a value");
}

}  // namespace wafer

// Evaluates a Result-returning expression; returns its error from the enclosing function.
#define WAFER_RETURN_IF_ERROR(expr)                      \
  do {                                                   \
    auto wafer_status_ = (expr);                         \
    if (!wafer_status_.ok()) return wafer_status_.take_error(); \
  } while (0)

#define WAFER_CONCAT_INNER_(a, b) a##b
#define WAFER_CONCAT_(a, b) WAFER_CONCAT_INNER_(a, b)
// WAFER_ASSIGN_OR_RETURN(auto x, make_x()); binds the value or returns the error.
#define WAFER_ASSIGN_OR_RETURN(lhs, expr) \
  WAFER_ASSIGN_OR_RETURN_IMPL_(WAFER_CONCAT_(wafer_result_, __LINE__), lhs, expr)
#define WAFER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.take_error();            \
  lhs = std::move(tmp).value()
