#pragma once

// Go 1.19's sort.Sort (pattern-defeating quicksort), ported exactly so that elements that compare
// equal end up in the order Go leaves them (confd's sortByLength and sortKVByLength are not
// stable sorts). Internal to tmpl/.

#include <bit>
#include <cstddef>
#include <cstdint>

namespace herald::tmpl::go {

/// sort.Sort over indices [0, n) with Go's Less(i, j) and Swap(i, j).
template <class Less, class Swap> class PdqSort {
public:
  PdqSort(Less less, Swap swap) : m_less(less), m_swap(swap) {}

  void sort(std::ptrdiff_t n) {
    if (n <= 1) {
      return;
    }
    int limit = std::bit_width(static_cast<std::uint64_t>(n));
    pdqsort(0, n, limit);
  }

private:
  using I = std::ptrdiff_t;
  enum class Hint { unknown, increasing, decreasing };

  bool less(I i, I j) { return m_less(static_cast<std::size_t>(i), static_cast<std::size_t>(j)); }
  void swap(I i, I j) { m_swap(static_cast<std::size_t>(i), static_cast<std::size_t>(j)); }

  void insertion_sort(I a, I b) {
    for (I i = a + 1; i < b; ++i) {
      for (I j = i; j > a && less(j, j - 1); --j) {
        swap(j, j - 1);
      }
    }
  }

  void sift_down(I lo, I hi, I first) {
    I root = lo;
    for (;;) {
      I child = 2 * root + 1;
      if (child >= hi) {
        break;
      }
      if (child + 1 < hi && less(first + child, first + child + 1)) {
        ++child;
      }
      if (!less(first + root, first + child)) {
        return;
      }
      swap(first + root, first + child);
      root = child;
    }
  }

  void heap_sort(I a, I b) {
    I first = a;
    I lo = 0;
    I hi = b - a;
    for (I i = (hi - 1) / 2; i >= 0; --i) {
      sift_down(i, hi, first);
    }
    for (I i = hi - 1; i >= 0; --i) {
      swap(first, first + i);
      sift_down(lo, i, first);
    }
  }

  void pdqsort(I a, I b, int limit) {
    constexpr I max_insertion = 12;
    bool was_balanced = true;
    bool was_partitioned = true;
    for (;;) {
      I length = b - a;
      if (length <= max_insertion) {
        insertion_sort(a, b);
        return;
      }
      if (limit == 0) {
        heap_sort(a, b);
        return;
      }
      if (!was_balanced) {
        break_patterns(a, b);
        --limit;
      }
      Hint hint = Hint::unknown;
      I pivot = choose_pivot(a, b, hint);
      if (hint == Hint::decreasing) {
        reverse_range(a, b);
        pivot = (b - 1) - (pivot - a);
        hint = Hint::increasing;
      }
      if (was_balanced && was_partitioned && hint == Hint::increasing) {
        if (partial_insertion_sort(a, b)) {
          return;
        }
      }
      if (a > 0 && !less(a - 1, pivot)) {
        a = partition_equal(a, b, pivot);
        continue;
      }
      bool already = false;
      I mid = partition(a, b, pivot, already);
      was_partitioned = already;
      I left_len = mid - a;
      I right_len = b - mid;
      I balance_threshold = length / 8;
      if (left_len < right_len) {
        was_balanced = left_len >= balance_threshold;
        pdqsort(a, mid, limit);
        a = mid + 1;
      } else {
        was_balanced = right_len >= balance_threshold;
        pdqsort(mid + 1, b, limit);
        b = mid;
      }
    }
  }

  I partition(I a, I b, I pivot, bool& already) {
    swap(a, pivot);
    I i = a + 1;
    I j = b - 1;
    while (i <= j && less(i, a)) {
      ++i;
    }
    while (i <= j && !less(j, a)) {
      --j;
    }
    if (i > j) {
      swap(j, a);
      already = true;
      return j;
    }
    swap(i, j);
    ++i;
    --j;
    for (;;) {
      while (i <= j && less(i, a)) {
        ++i;
      }
      while (i <= j && !less(j, a)) {
        --j;
      }
      if (i > j) {
        break;
      }
      swap(i, j);
      ++i;
      --j;
    }
    swap(j, a);
    already = false;
    return j;
  }

  I partition_equal(I a, I b, I pivot) {
    swap(a, pivot);
    I i = a + 1;
    I j = b - 1;
    for (;;) {
      while (i <= j && !less(a, i)) {
        ++i;
      }
      while (i <= j && less(a, j)) {
        --j;
      }
      if (i > j) {
        break;
      }
      swap(i, j);
      ++i;
      --j;
    }
    return i;
  }

  bool partial_insertion_sort(I a, I b) {
    constexpr int max_steps = 5;
    constexpr I shortest_shifting = 50;
    I i = a + 1;
    for (int step = 0; step < max_steps; ++step) {
      while (i < b && !less(i, i - 1)) {
        ++i;
      }
      if (i == b) {
        return true;
      }
      if (b - a < shortest_shifting) {
        return false;
      }
      swap(i, i - 1);
      if (i - a >= 2) {
        for (I j = i - 1; j >= 1; --j) {
          if (!less(j, j - 1)) {
            break;
          }
          swap(j, j - 1);
        }
      }
      if (b - i >= 2) {
        for (I j = i + 1; j < b; ++j) {
          if (!less(j, j - 1)) {
            break;
          }
          swap(j, j - 1);
        }
      }
    }
    return false;
  }

  void break_patterns(I a, I b) {
    I length = b - a;
    if (length >= 8) {
      // Go 1.19's xorshift (shifts 13, 17, 5), seeded with the length.
      std::uint64_t random = static_cast<std::uint64_t>(length);
      auto next = [&random] {
        random ^= random << 13;
        random ^= random >> 17;
        random ^= random << 5;
        return random;
      };
      std::uint64_t modulus = std::uint64_t{1}
                              << std::bit_width(static_cast<std::uint64_t>(length));
      for (I idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; ++idx) {
        auto other = static_cast<I>(next() & (modulus - 1));
        if (other >= length) {
          other -= length;
        }
        swap(idx, a + other);
      }
    }
  }

  I choose_pivot(I a, I b, Hint& hint) {
    constexpr I shortest_ninther = 50;
    constexpr int max_swaps = 4 * 3;
    I l = b - a;
    int swaps = 0;
    I i = a + l / 4 * 1;
    I j = a + l / 4 * 2;
    I k = a + l / 4 * 3;
    if (l >= 8) {
      if (l >= shortest_ninther) {
        i = median(i - 1, i, i + 1, swaps);
        j = median(j - 1, j, j + 1, swaps);
        k = median(k - 1, k, k + 1, swaps);
      }
      j = median(i, j, k, swaps);
    }
    if (swaps == 0) {
      hint = Hint::increasing;
    } else if (swaps == max_swaps) {
      hint = Hint::decreasing;
    } else {
      hint = Hint::unknown;
    }
    return j;
  }

  void order2(I& a, I& b, int& swaps) {
    if (less(b, a)) {
      ++swaps;
      I t = a;
      a = b;
      b = t;
    }
  }

  I median(I a, I b, I c, int& swaps) {
    order2(a, b, swaps);
    order2(b, c, swaps);
    order2(a, b, swaps);
    return b;
  }

  void reverse_range(I a, I b) {
    I i = a;
    I j = b - 1;
    while (i < j) {
      swap(i, j);
      ++i;
      --j;
    }
  }

  Less m_less;
  Swap m_swap;
};

/// Sorts indices [0, n) as Go's sort.Sort would.
template <class Less, class Swap> void sort(std::size_t n, Less less, Swap swap) {
  PdqSort<Less, Swap>(less, swap).sort(static_cast<std::ptrdiff_t>(n));
}

} // namespace herald::tmpl::go
