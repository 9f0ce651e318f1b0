// ---------------------------------------------------------------------------
// ds/list.hpp: an intrusive doubly linked list with O(1) splice.
//
// The links live in the elements (slab headers), named by member pointers,
// so one header can sit on two lists at once (its heap's runs and its size
// class queue). splice_front is what makes heap teardown O(1): a whole
// heap's slab list joins the slab cache by relinking its two ends.
// ---------------------------------------------------------------------------
#ifndef SPACES_DS_LIST_HPP
#define SPACES_DS_LIST_HPP

#include <cstddef>

namespace spaces::detail {

template <class T, T* T::*Next, T* T::*Prev>
class IntrusiveList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  T* front() const noexcept { return head_; }
  T* back() const noexcept { return tail_; }
  std::size_t size() const noexcept { return size_; }

  void push_front(T* e) noexcept {
    e->*Prev = nullptr;
    e->*Next = head_;
    if (head_ != nullptr) head_->*Prev = e; else tail_ = e;
    head_ = e;
    ++size_;
  }
  void push_back(T* e) noexcept {
    e->*Next = nullptr;
    e->*Prev = tail_;
    if (tail_ != nullptr) tail_->*Next = e; else head_ = e;
    tail_ = e;
    ++size_;
  }
  void remove(T* e) noexcept {
    T* n = e->*Next;
    T* p = e->*Prev;
    if (p != nullptr) p->*Next = n; else head_ = n;
    if (n != nullptr) n->*Prev = p; else tail_ = p;
    e->*Next = nullptr;
    e->*Prev = nullptr;
    --size_;
  }
  T* pop_front() noexcept {
    T* e = head_;
    if (e != nullptr) remove(e);
    return e;
  }
  T* pop_back() noexcept {
    T* e = tail_;
    if (e != nullptr) remove(e);
    return e;
  }
  /// Moves every element of `other` to the front of this list, in order.
  /// O(1): touches only the two lists' boundary elements.
  void splice_front(IntrusiveList& other) noexcept {
    if (other.empty()) return;
    if (empty()) {
      head_ = other.head_;
      tail_ = other.tail_;
    } else {
      other.tail_->*Next = head_;
      head_->*Prev = other.tail_;
      head_ = other.head_;
    }
    size_ += other.size_;
    other.clear();
  }
  /// Forgets the elements without touching them.
  void clear() noexcept {
    head_ = tail_ = nullptr;
    size_ = 0;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace spaces::detail

#endif  // SPACES_DS_LIST_HPP
