// ---------------------------------------------------------------------------
// driver.cpp: the life of a translation unit, and running many in order.
//
// A Unit runs its stages in order (read, parse, check, lower, optimise,
// run; --emit=ast and --emit=ir stop after the dump or the IR). Heaps of one
// unit (all children of `unit`, which carries --mem-cap):
//   source    region   the file's bytes                    until the unit ends
//   tokens    region   ANTLR tokens, reset every 256 KiB   until parsing ends
//   contexts  general  ANTLR rule contexts and terminal    until parsing ends
//                      nodes, freed after every item
//   ast       region   AST nodes (or global new)           until lowering ends
//   ir        region   IR                                  until the run or the IR print ends
//   values    general  tensors and structs of the run      until the run ends
// (--alloc=new: tokens, contexts and AST nodes come from the global heap.)
// The unit's thread is routed into `unit` from the Unit's first member to
// its last (Unit::route_), so with the malloc replacement in the process
// everything else the unit allocates is `unit`'s too; the unit hands its
// output to a UnitSink before it dies, routed back to the caller's heap.
// A cap failure anywhere unwinds to run_unit(), which names the phase and
// what the cap refused, once the exception (possibly a block of `unit`)
// is gone.
// Units run on threads with 256 MiB stacks (reserved, not committed) so a
// parse at the nesting limit is far from the stack's end on any thread.
// The --stats text is unit_stats.cpp's.
// ---------------------------------------------------------------------------
#include <spacesc/driver.hpp>

#include "unit_stats.hpp"

#include <spacesc/ast_builder.hpp>
#include <spacesc/ast_dump.hpp>
#include <spacesc/diag.hpp>
#include <spacesc/interp.hpp>
#include <spacesc/ir.hpp>
#include <spacesc/lower.hpp>
#include <spacesc/passes.hpp>
#include <spacesc/sema.hpp>

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace spacesc {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// Reads the file into `arena`; false with errno set when it cannot.
bool read_file(const std::string& path, spaces::TrivialArena& arena, std::string_view& text) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  struct Close {
    std::FILE* f;
    ~Close() { std::fclose(f); }
  } close{f};
  struct stat st{};
  if (fstat(fileno(f), &st) != 0) return false;
  if (S_ISREG(st.st_mode)) {  // one block of the file's size
    const auto size = static_cast<std::size_t>(st.st_size);
    char* data = static_cast<char*>(arena.allocate(size + 1, 1));
    const std::size_t n = std::fread(data, 1, size, f);
    if (std::ferror(f)) return false;
    text = std::string_view(data, n);
    return true;
  }
  // A pipe or device: grow geometrically; the abandoned copies stay in the
  // region until the unit ends.
  std::size_t capacity = 4096, size = 0;
  char* data = static_cast<char*>(arena.allocate(capacity, 1));
  for (;;) {
    const std::size_t n = std::fread(data + size, 1, capacity - size, f);
    size += n;
    if (n == 0) break;
    if (size == capacity) {
      char* more = static_cast<char*>(arena.allocate(2 * capacity, 1));
      std::memcpy(more, data, size);
      data = more;
      capacity *= 2;
    }
  }
  if (std::ferror(f)) return false;
  text = std::string_view(data, size);
  return true;
}

/// The phases a cap failure can interrupt, as the message names them.
enum class Phase : std::uint8_t { Reading, Parsing, Checking, Lowering, Optimising, Printing, Running };

const char* phase_text(Phase p) {
  switch (p) {
    case Phase::Reading:
      return "reading the source";
    case Phase::Parsing:
      return "parsing";
    case Phase::Checking:
      return "checking";
    case Phase::Lowering:
      return "lowering";
    case Phase::Optimising:
      return "optimising";
    case Phase::Printing:
      return "printing";
    case Phase::Running:
      return "running";
  }
  return "compiling";
}

/// What a stage tells Unit::run: go on, or stop because the unit is done
/// (its output or its diagnostics are in the UnitResult).
enum class StageStatus : std::uint8_t { Continue, Stop };

/// One unit's pipeline, one function per stage; run() is run_unit() minus
/// the error translation. The stages hand their results on through
/// members, each made by the stage that needs it first, so that a cap
/// failure happens in (and names) the same phase as ever.
class Unit {
 public:
  Unit(const std::string& path, const Options& options)
      : path_(path), options_(options), heap_(spaces::HeapOptions().name("unit").cap(options.mem_cap).tiny()),
        route_(heap_) {}

  /// The stages in order; --emit decides where the unit stops.
  void run() {
    if (read() == StageStatus::Stop) return;
    if (parse() == StageStatus::Stop) return;
    if (options_.emit == Emit::Ast) return dump();
    if (check() == StageStatus::Stop) return;
    if (lower() == StageStatus::Stop) return;
    if (optimise() == StageStatus::Stop) return;
    if (options_.emit == Emit::Ir) return print_ir();
    execute();
  }

  /// Hands the output, the diagnostics and --stats to `sink`, routed back
  /// to the heap the thread was on before the unit.
  void deliver(UnitSink& sink) {
    const spaces::ScopedHeap back(route_.previous());
    std::string stats;
    if (options_.stats && result_.status != ExitStatus::Usage) stats = stats_text();
    sink.deliver(result_.out, result_.err, stats, result_.status);
  }

  /// The --stats text as the unit stands (after a memory failure too), in
  /// the heap the thread was on before the unit.
  std::string stats_outside() {
    const spaces::ScopedHeap back(route_.previous());
    return stats_text();
  }

  Phase phase() const noexcept { return phase_; }
  const spaces_heap_t* heap() const noexcept { return heap_.get(); }

 private:
  // ---- Stages ----

  /// Reads the file into the unit's `source` region.
  StageStatus read() {
    const auto t0 = Clock::now();
    source_.emplace(spaces::HeapOptions().name("source").parent(heap_));
    std::string_view text;
    if (!read_file(path_, *source_, text)) {
      result_.err += "spacesc: error: cannot read '" + path_ + "': " + std::strerror(errno) + "\n";
      result_.status = ExitStatus::Usage;
      return StageStatus::Stop;
    }
    stats_.input_bytes = text.size();
    stats_.t_read = ms_since(t0);
    file_ = SourceFile{path_, text};
    return StageStatus::Continue;
  }

  /// Parses the file into the AST; a lexical or syntax error ends the unit.
  StageStatus parse() {
    phase_ = Phase::Parsing;
    const auto t0 = Clock::now();
    ast_.emplace(options_.alloc, &heap_);
    module_ = parse_module(file_, *ast_, diags_, ParseOptions{options_.alloc, &heap_}, &stats_.parse);
    stats_.t_parse = ms_since(t0);
    record_ast();
    if (diags_.has_errors()) return fail();
    return StageStatus::Continue;
  }

  /// --emit=ast: the dump, or an error if it would be too large.
  void dump() {
    phase_ = Phase::Printing;
    if (!dump_ast(*module_, path_, result_.out)) {
      result_.out.clear();
      result_.err += path_ + ": error: the AST dump would exceed " + format_size(kMaxDumpBytes) +
                     " (two spaces of indentation per level of a tree this deep)\n";
      result_.status = ExitStatus::Errors;
    }
    teardown_ast();
  }

  /// The static rules; an error ends the unit.
  StageStatus check() {
    phase_ = Phase::Checking;
    const auto t0 = Clock::now();
    const bool ok = check_module(*module_, *ast_, diags_);
    stats_.t_sema = ms_since(t0);
    return ok ? StageStatus::Continue : fail();
  }

  /// AST to IR; the AST dies here. Cannot fail short of memory (which
  /// throws).
  StageStatus lower() {
    phase_ = Phase::Lowering;
    reached_ = Emit::Ir;
    const auto t0 = Clock::now();
    ir_.emplace(&heap_);
    program_ = lower_module(*module_, *ir_);
    stats_.t_lower = ms_since(t0);
    record_ast();
    teardown_ast();
    return StageStatus::Continue;
  }

  /// The passes. Cannot fail short of memory (which throws).
  StageStatus optimise() {
    phase_ = Phase::Optimising;
    const auto t0 = Clock::now();
    run_passes(program_, *ir_, PassOptions{}, &stats_.passes);
    stats_.t_passes = ms_since(t0);
    record_ir();
    return StageStatus::Continue;
  }

  /// --emit=ir: the optimised IR's text.
  void print_ir() {
    phase_ = Phase::Printing;
    ir::print_module(program_, result_.out);
    teardown_ir();
  }

  /// Runs main; an evaluation error ends the unit.
  void execute() {
    phase_ = Phase::Running;
    reached_ = Emit::Run;
    const auto t0 = Clock::now();
    const bool ran = run_module(program_, &heap_, diags_, result_.out, &stats_.run);
    stats_.t_run = ms_since(t0);
    teardown_ir();
    if (!ran) fail();
  }

  // ---- Bookkeeping ----

  /// The --stats text, with the numbers of whatever is alive brought up to date.
  std::string stats_text() {
    if (ast_) record_ast();
    if (ir_) record_ir();
    stats_.unit_heap = heap_.stats();
    std::string s;
    append_stats(s, path_, options_, stats_, reached_);
    return s;
  }

  void record_ir() {
    stats_.ir_insts = ir_->inst_count();
    stats_.ir_heap = ir_->heap_stats();
  }

  void record_ast() {
    stats_.ast_nodes = ast_->node_count();
    stats_.ast_bytes = ast_->bytes_requested();
    stats_.ast_allocations = ast_->allocations();
    if (ast_->mode() == AllocMode::Arena) stats_.ast_heap = ast_->heap_stats();
  }

  void teardown_ast() {
    const auto t0 = Clock::now();
    module_ = nullptr;
    ast_.reset();
    stats_.t_teardown_ast = ms_since(t0);
  }

  void teardown_ir() {
    const auto t0 = Clock::now();
    ir_.reset();
    stats_.t_teardown_ir = ms_since(t0);
  }

  /// Ends the unit with its diagnostics and no output.
  StageStatus fail() {
    diags_.render(result_.err);
    result_.out.clear();
    result_.status = ExitStatus::Errors;
    return StageStatus::Stop;
  }

  const std::string& path_;
  const Options& options_;
  spaces::Heap heap_;  // declared first: the heaps below are its children
  // The thread allocates from heap_ from here on, until the unit dies: every
  // member below, and all they allocate, lives in heap_.
  spaces::ScopedHeap route_;
  UnitResult result_;
  std::optional<spaces::TrivialArena> source_;  // the file's bytes, until the unit ends
  SourceFile file_{};
  DiagEngine diags_{file_};
  std::optional<AstContext> ast_;  // from parse() to lower()
  ModuleDecl* module_ = nullptr;
  std::optional<ir::IrContext> ir_;  // from lower() to the end of print_ir() or execute()
  ir::Module program_;
  UnitStats stats_;
  Phase phase_ = Phase::Reading;
  Emit reached_ = Emit::Ast;
};

// ---- Threads ----

/// Starts `fn` on a new thread with a 256 MiB stack; false if none could
/// be made. `fn` must outlive the thread.
template <class F>
bool start_thread(F& fn, pthread_t& thread) {
  constexpr std::size_t kStack = std::size_t{256} << 20;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStack);
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<F*>(arg))();
    return nullptr;
  };
  const bool ok = pthread_create(&thread, &attr, trampoline, &fn) == 0;
  pthread_attr_destroy(&attr);
  return ok;
}

}  // namespace

std::string format_size(std::size_t bytes) {
  constexpr std::size_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
  if (bytes != 0 && bytes % GiB == 0) return std::to_string(bytes / GiB) + " GiB";
  if (bytes != 0 && bytes % MiB == 0) return std::to_string(bytes / MiB) + " MiB";
  if (bytes != 0 && bytes % KiB == 0) return std::to_string(bytes / KiB) + " KiB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

namespace {

/// Why a unit stopped short of memory: copied out of the exception inside
/// the handler, where nothing may be allocated or freed in the unit's heap
/// (the exception object itself may be one of its blocks).
struct MemoryFailure {
  bool failed = false;
  bool at_cap = false;  // else the OS refused
  Phase phase = Phase::Reading;
  std::size_t cap = 0, footprint = 0, refused = 0, request = 0;
};

/// Fills `f` for an allocation failure of the calling thread in the unit
/// whose heap is `unit`: a routed malloc or operator new, or the facade's
/// cap_exceeded, refused by the cap that the thread's last failure record
/// describes (which says what the cap refused).
void record_memory_failure(const std::bad_alloc& e, Phase phase, const spaces_heap_t* unit,
                           MemoryFailure& f) noexcept {
  f.failed = true;
  f.phase = phase;
  spaces_failure_t last{};
  spaces_last_failure(&last);
  if (last.status == SPACES_E_CAP && last.heap == unit) {
    f.at_cap = true;
    f.cap = last.cap;
    f.footprint = last.footprint;
    f.request = last.request;
    f.refused = last.charge;
  } else if (const auto* cap = dynamic_cast<const spaces::cap_exceeded*>(&e); cap != nullptr) {
    f.at_cap = true;
    f.cap = cap->cap();
    f.footprint = cap->footprint();
    f.request = f.refused = cap->request();
  }
}

/// The message for a unit that stopped short of memory.
std::string memory_failure_text(const std::string& path, const MemoryFailure& f) {
  const char* phase = phase_text(f.phase);
  if (!f.at_cap) return path + ": error: out of memory while " + phase + "\n";
  std::string s = path + ": error: memory cap of " + format_size(f.cap) + " exceeded while " + phase +
                  " (footprint " + std::to_string(f.footprint) + ", " + std::to_string(f.refused) + " more refused";
  if (f.request != f.refused) s += " for a request of " + std::to_string(f.request);
  return s + ")\n";
}

/// Collects a unit's result into a UnitResult in the caller's heap.
class ResultSink final : public UnitSink {
 public:
  void deliver(std::string_view out, std::string_view err, std::string_view stats, ExitStatus status) override {
    result.out.assign(out);
    result.err.assign(err);
    result.err.append(stats);
    result.status = status;
  }
  UnitResult result;
};

}  // namespace

void run_unit(const std::string& path, const Options& options, UnitSink& sink) {
  MemoryFailure failure;
  std::string stats;
  try {
    Unit unit(path, options);
    try {
      unit.run();
    } catch (const std::bad_alloc& e) {
      record_memory_failure(e, unit.phase(), unit.heap(), failure);
    }
    // Outside the handler, the exception freed: the unit is whole again.
    if (!failure.failed) return unit.deliver(sink);
    if (options.stats) stats = unit.stats_outside();
  } catch (const std::bad_alloc& e) {  // the unit's heap or its route could not be made
    record_memory_failure(e, Phase::Reading, nullptr, failure);
  }
  sink.deliver({}, memory_failure_text(path, failure), stats, ExitStatus::CapExceeded);
}

UnitResult run_unit(const std::string& path, const Options& options) {
  ResultSink sink;
  run_unit(path, options, sink);
  return std::move(sink.result);
}

bool check_inputs(std::span<const std::string> paths, std::string& err) {
  for (const std::string& p : paths) {
    struct stat st{};
    if (stat(p.c_str(), &st) != 0) {
      err += "spacesc: error: cannot open '" + p + "': " + std::strerror(errno) + "\n";
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      err += "spacesc: error: cannot read '" + p + "': it is a directory\n";
      return false;
    }
    // A FIFO or a device is only checked for permission, never opened: its
    // bytes can be read once, and opening a FIFO waits for a writer, so an
    // open and close here would eat or wait for what the unit must read.
    if (!S_ISREG(st.st_mode)) {
      if (access(p.c_str(), R_OK) == 0) continue;
      err += "spacesc: error: cannot open '" + p + "': " + std::strerror(errno) + "\n";
      return false;
    }
    std::FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) {
      err += "spacesc: error: cannot open '" + p + "': " + std::strerror(errno) + "\n";
      return false;
    }
    std::fclose(f);
  }
  return true;
}

namespace {

/// Writes the units' results to the process streams in command-line order.
/// A unit delivers from its own thread, once every unit before it has
/// written: it keeps its memory until then, so at most `-j` units are alive.
class OrderedSink {
 public:
  OrderedSink(std::FILE* out, std::FILE* err) : out_(out), err_(err) {}

  /// The sink for unit `index`.
  class Turn final : public UnitSink {
   public:
    Turn(OrderedSink& owner, std::size_t index) : owner_(owner), index_(index) {}
    void deliver(std::string_view out, std::string_view err, std::string_view stats, ExitStatus status) override {
      owner_.write(index_, out, err, stats, status);
    }

   private:
    OrderedSink& owner_;
    std::size_t index_;
  };

  ExitStatus status() const noexcept { return status_; }

 private:
  void write(std::size_t index, std::string_view out, std::string_view err, std::string_view stats,
             ExitStatus status) {
    std::unique_lock<std::mutex> lock(mu_);
    turn_changed_.wait(lock, [&] { return next_ == index; });
    put(out, out_);
    std::fflush(out_);
    put(err, err_);
    put(stats, err_);
    std::fflush(err_);
    status_ = static_cast<ExitStatus>(std::max(static_cast<int>(status_), static_cast<int>(status)));
    ++next_;
    turn_changed_.notify_all();
  }

  static void put(std::string_view text, std::FILE* f) {
    if (!text.empty()) std::fwrite(text.data(), 1, text.size(), f);  // an empty view's data() may be null
  }

  std::FILE* out_;
  std::FILE* err_;
  std::mutex mu_;
  std::condition_variable turn_changed_;
  std::size_t next_ = 0;  // the unit whose turn it is
  ExitStatus status_ = ExitStatus::Ok;
};

}  // namespace

ExitStatus run_units(std::span<const std::string> paths, const Options& options, std::FILE* out, std::FILE* err) {
  const std::size_t n = paths.size();
  OrderedSink sink(out, err);
  std::atomic<std::size_t> next{0};
  // Units are taken in order, so the unit a worker waits on to write is
  // always being compiled or written by another: the wait ends.
  auto worker = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      OrderedSink::Turn turn(sink, i);
      run_unit(paths[i], options, turn);
    }
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(options.jobs, static_cast<unsigned>(n)));
  std::vector<pthread_t> pool;
  for (unsigned j = 0; j < jobs; ++j) {
    pthread_t t;
    if (start_thread(worker, t)) pool.push_back(t);
  }
  if (pool.empty()) worker();  // no thread to be had: run here
  for (pthread_t t : pool) pthread_join(t, nullptr);
  return sink.status();
}

}  // namespace spacesc
