;; init: init
;; A nested component definition instantiated twice, driven into two states by a sibling, gets one copy of the definition per state.
(component
  (component $counter
    (core module $m
      (memory 1)
      (global $n (mut i32) (i32.const 0))
      (func (export "bump") (param i32)
        (global.set $n (i32.add (global.get $n) (local.get 0)))
        (i32.store (i32.const 8) (i32.mul (global.get $n) (i32.const 10))))
      (func (export "get") (result i32)
        (i32.add (global.get $n) (i32.load (i32.const 8)))))
    (core instance $i (instantiate $m))
    (func (export "bump") (param "by" u32) (canon lift (core func $i "bump")))
    (func (export "get") (result u32) (canon lift (core func $i "get"))))
  (component $driver
    (import "a" (instance $a (export "bump" (func (param "by" u32)))))
    (import "b" (instance $b (export "bump" (func (param "by" u32)))))
    (core func $ba (canon lower (func $a "bump")))
    (core func $bb (canon lower (func $b "bump")))
    (core module $dm
      (import "a" "bump" (func $ba (param i32)))
      (import "b" "bump" (func $bb (param i32)))
      (func (export "init") (call $ba (i32.const 5)) (call $bb (i32.const 7))))
    (core instance $d (instantiate $dm
      (with "a" (instance (export "bump" (func $ba))))
      (with "b" (instance (export "bump" (func $bb))))))
    (func (export "init") (canon lift (core func $d "init"))))
  (instance $c1 (instantiate $counter))
  (instance $c2 (instantiate $counter))
  (instance $drv (instantiate $driver (with "a" (instance $c1)) (with "b" (instance $c2))))
  (export "init" (func $drv "init"))
  (export "get-1" (func $c1 "get"))
  (export "get-2" (func $c2 "get"))
)
