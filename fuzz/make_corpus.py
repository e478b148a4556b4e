#!/usr/bin/env python3
"""Writes the seed corpus of task_program_fuzzer into fuzz/corpus/: one small program per
file, covering every node kind, reducer, policy, pool size and throwing pattern, so a run
starts from the interesting shapes instead of finding them. The byte format is described
at the top of task_program_fuzzer.cpp. Re-run after changing the format:
    python3 fuzz/make_corpus.py
"""
import pathlib

(LEAF, THROW_IF, JOIN, MAP_REDUCE, REDUCE, FOR_EACH, DECOMPOSE, TASK_GROUP, SUBMIT, THREADS, DISTRIBUTE,
 DECOMPOSE_USER, OTHER_POOL) = range(13)
REDUCERS = ["sum", "product", "min", "max", "concat_vector", "concat_single", "concat_optional",
            "affine", "affine_exact", "poly", "poly_exact"]
ADAPTIVE, GRAIN4, CHUNKS3 = 0, 1 + 3 * 3, 2 + 3 * 2  # policy bytes: adaptive, grain(4), chunks(3)


def leaf(v=5):
    return [LEAF, v]


def throw(code=1, modulus=1, residue=0, v=0, bad_alloc=False):
    return [THROW_IF, code | (64 if bad_alloc else 0), modulus - 1, residue, v]


def join(a, b):
    return [JOIN] + a + b


def map_reduce(n, red, policy=ADAPTIVE, child=None, calls=2):
    return [MAP_REDUCE, n, REDUCERS.index(red), policy] + ([calls] + child if child else [0])


def reduce(n, red, policy=ADAPTIVE):
    return [REDUCE, n, REDUCERS.index(red), policy]


def for_each(n, policy=ADAPTIVE, child=None, calls=3):
    return [FOR_EACH, n, policy] + ([calls] + child if child else [0])


def decompose(n, policy=GRAIN4, child=None, calls=1):
    return [DECOMPOSE, n, policy] + ([calls] + child if child else [0])


def distribute(n, child=None, calls=1):
    return [DISTRIBUTE, n] + ([calls] + child if child else [0])


def decompose_user(n, child=None, calls=1, throws=None):
    fault = 0 if throws is None else 2 * throws + 1
    return [DECOMPOSE_USER, n, fault] + ([calls] + child if child else [0])


def other_pool(a, b):
    return [OTHER_POOL] + a + b


def task_group(*children, chain=False):
    return [TASK_GROUP, len(children) + (5 if chain else 0)] + [b for c in children for b in c]


def threads(a, b):
    return [THREADS] + a + b


def submit(child):
    return [SUBMIT] + child


def program(root, pool_size=2, inside_pool=False, seed=7):
    return bytes([(pool_size - 1) | (4 if inside_pool else 0), seed] + root)


seeds = {
    "leaf": program(leaf()),
    "join": program(join(leaf(1), leaf(2))),
    "submit": program(submit(leaf(3))),
    "task_group": program(task_group(leaf(1), leaf(2), leaf(3), leaf(4))),
    "for_each": program(for_each(40, GRAIN4, leaf(1))),
    "distribute": program(decompose(33, CHUNKS3, leaf(2))),
    "throw_root": program(throw(5)),
    "join_throw_left": program(join(throw(3), leaf(1))),
    "join_throw_right": program(join(leaf(1), throw(4))),
    "join_throw_both": program(join(throw(3), throw(4)), pool_size=4),
    "map_reduce_throw_some": program(map_reduce(64, "sum", GRAIN4, throw(9, modulus=3, residue=1), calls=3)),
    "task_group_throw_two": program(task_group(throw(1), leaf(2), throw(2)), pool_size=3),
    "task_group_chain": program(task_group(leaf(1), throw(3, 2, 1), map_reduce(30, "sum"), submit(leaf(4)),
                                           chain=True), pool_size=2),
    "threads": program(threads(map_reduce(40, "concat_single", GRAIN4), task_group(leaf(1), leaf(2))), pool_size=1),
    "threads_nested_throw": program(threads(threads(join(leaf(1), throw(5)), leaf(2)), submit(throw(6))),
                                    pool_size=3),
    "submit_throw": program(submit(throw(6))),
    "for_each_throw": program(for_each(20, CHUNKS3, throw(7, modulus=2, residue=1))),
    "distribute_throw": program(decompose(17, GRAIN4, throw(8, modulus=2, residue=0), calls=2)),
    "nested_map_reduce": program(map_reduce(32, "sum", ADAPTIVE, join(map_reduce(16, "max"), leaf(3)), calls=3),
                                 pool_size=4),
    "group_of_submits": program(task_group(submit(map_reduce(20, "product")), submit(join(leaf(1), leaf(2)))),
                                inside_pool=True),
    "deep_join": program(join(join(join(leaf(1), leaf(2)), join(leaf(3), leaf(4))), join(leaf(5), throw(2, 2, 1))),
                         pool_size=1),
    "inside_pool_nested": program(submit(task_group(map_reduce(24, "concat_vector", GRAIN4, submit(leaf(9)), calls=2),
                                                    for_each(12))), pool_size=2, inside_pool=True),
}
for red in REDUCERS:
    seeds["map_reduce_" + red] = program(map_reduce(50, red, [ADAPTIVE, GRAIN4, CHUNKS3][len(seeds) % 3]),
                                         pool_size=1 + len(seeds) % 4)
for red in ["sum", "concat_optional", "affine", "affine_exact"]:
    seeds["reduce_" + red] = program(reduce(60, red, GRAIN4), pool_size=3)

# Added with opcodes 10-12, the poly reducers and bad_alloc; after the loops above, whose
# seeds depend on len(seeds), so that the earlier seeds keep their bytes.
seeds.update({
    "distribute_indices": program(distribute(20, join(leaf(1), leaf(2)), calls=3), pool_size=3),
    "decompose_user": program(decompose_user(12, submit(leaf(4)), calls=2), pool_size=2),
    "decompose_user_throw": program(decompose_user(9, leaf(1), throws=11), pool_size=4),
    "other_pool": program(other_pool(map_reduce(30, "poly", GRAIN4, leaf(2), calls=2), task_group(leaf(1), leaf(2))),
                          pool_size=1),
    "other_pool_throw": program(join(other_pool(throw(12), leaf(1)), other_pool(leaf(2), throw(13))), pool_size=2,
                                inside_pool=True),
    "bad_alloc": program(task_group(leaf(1), throw(14, bad_alloc=True), leaf(3)), pool_size=3),
    "bad_alloc_in_map_reduce": program(map_reduce(40, "sum", CHUNKS3, throw(15, 3, 2, bad_alloc=True), calls=3),
                                       pool_size=4),
})

corpus = pathlib.Path(__file__).resolve().parent / "corpus"
corpus.mkdir(exist_ok=True)
for old in corpus.iterdir():
    old.unlink()
for name, data in seeds.items():
    (corpus / name).write_bytes(data)
print(f"wrote {len(seeds)} seeds to {corpus}")
