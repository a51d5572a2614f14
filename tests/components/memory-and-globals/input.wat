;; init: wizer-initialize
;; Memory written (and grown) at init and mutable i32/i64 globals become data segments and global initializers.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $count (mut i32) (i32.const 0))
    (global $big (mut i64) (i64.const 0))
    (global $fixed i32 (i32.const 9))
    (data (i32.const 16) "hello")
    (func (export "wizer-initialize")
      (drop (memory.grow (i32.const 1)))
      (i32.store (i32.const 100) (i32.const 0xAABBCCDD))
      (i32.store8 (i32.const 16) (i32.const 72))
      (i64.store (i32.const 70000) (i64.const 0x0102030405060708))
      (global.set $count (i32.const 3))
      (global.set $big (i64.const -5)))
    (func (export "run") (result i64)
      (i64.add
        (i64.extend_i32_u
          (i32.add (i32.add (i32.load (i32.const 100)) (i32.load8_u (i32.const 16)))
                   (i32.add (global.get $count) (global.get $fixed))))
        (i64.add (global.get $big) (i64.load (i32.const 70000))))))
  (core instance $i (instantiate $m))
  (func (export "wizer-initialize") (canon lift (core func $i "wizer-initialize")))
  (func (export "run") (result s64) (canon lift (core func $i "run")))
)
