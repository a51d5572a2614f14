(component
  (component $counter (;0;)
    (core module $m (;0;)
      (type (;0;) (func (param i32)))
      (type (;1;) (func (result i32)))
      (memory (;0;) 1)
      (global $n (;0;) (mut i32) i32.const 5)
      (export "bump" (func 0))
      (export "get" (func 1))
      (func (;0;) (type 0) (param i32)
        global.get $n
        local.get 0
        i32.add
        global.set $n
        i32.const 8
        global.get $n
        i32.const 10
        i32.mul
        i32.store
      )
      (func (;1;) (type 1) (result i32)
        global.get $n
        i32.const 8
        i32.load
        i32.add
      )
      (data (;0;) (i32.const 8) "2")
    )
    (core instance $i (;0;) (instantiate $m))
    (type (;0;) (func (param "by" u32)))
    (alias core export $i "bump" (core func (;0;)))
    (func (;0;) (type 0) (canon lift (core func 0)))
    (type (;1;) (func (result u32)))
    (alias core export $i "get" (core func (;1;)))
    (func (;1;) (type 1) (canon lift (core func 1)))
    (export (;2;) "bump" (func 0))
    (export (;3;) "get" (func 1))
  )
  (component (;1;)
    (core module $m (;0;)
      (type (;0;) (func (param i32)))
      (type (;1;) (func (result i32)))
      (memory (;0;) 1)
      (global $n (;0;) (mut i32) i32.const 7)
      (export "bump" (func 0))
      (export "get" (func 1))
      (func (;0;) (type 0) (param i32)
        global.get $n
        local.get 0
        i32.add
        global.set $n
        i32.const 8
        global.get $n
        i32.const 10
        i32.mul
        i32.store
      )
      (func (;1;) (type 1) (result i32)
        global.get $n
        i32.const 8
        i32.load
        i32.add
      )
      (data (;0;) (i32.const 8) "F")
    )
    (core instance $i (;0;) (instantiate $m))
    (type (;0;) (func (param "by" u32)))
    (alias core export $i "bump" (core func (;0;)))
    (func (;0;) (type 0) (canon lift (core func 0)))
    (type (;1;) (func (result u32)))
    (alias core export $i "get" (core func (;1;)))
    (func (;1;) (type 1) (canon lift (core func 1)))
    (export (;2;) "bump" (func 0))
    (export (;3;) "get" (func 1))
  )
  (component $driver (;2;)
    (type (;0;)
      (instance
        (type (;0;) (func (param "by" u32)))
        (export (;0;) "bump" (func (type 0)))
      )
    )
    (import "a" (instance $a (;0;) (type 0)))
    (type (;1;)
      (instance
        (type (;0;) (func (param "by" u32)))
        (export (;0;) "bump" (func (type 0)))
      )
    )
    (import "b" (instance $b (;1;) (type 1)))
    (alias export $a "bump" (func (;0;)))
    (core func $ba (;0;) (canon lower (func 0)))
    (alias export $b "bump" (func (;1;)))
    (core func $bb (;1;) (canon lower (func 1)))
    (core module $dm (;0;)
      (type (;0;) (func (param i32)))
      (type (;1;) (func))
      (import "a" "bump" (func $ba (;0;) (type 0) (param i32)))
      (import "b" "bump" (func $bb (;1;) (type 0) (param i32)))
      (export "init" (func 2))
      (func (;2;) (type 1)
        i32.const 5
        call $ba
        i32.const 7
        call $bb
      )
    )
    (core instance (;0;)
      (export "bump" (func $ba))
    )
    (core instance (;1;)
      (export "bump" (func $bb))
    )
    (core instance $d (;2;) (instantiate $dm
        (with "a" (instance 0))
        (with "b" (instance 1))
      )
    )
    (type (;2;) (func))
    (alias core export $d "init" (core func (;2;)))
    (func (;2;) (type 2) (canon lift (core func 2)))
    (export (;3;) "init" (func 2))
  )
  (instance $c1 (;0;) (instantiate $counter))
  (instance $c2 (;1;) (instantiate 1))
  (instance $drv (;2;) (instantiate $driver
      (with "a" (instance $c1))
      (with "b" (instance $c2))
    )
  )
  (alias export $drv "init" (func (;0;)))
  (alias export $c1 "get" (func (;1;)))
  (export (;2;) "get-1" (func 1))
  (alias export $c2 "get" (func (;3;)))
  (export (;4;) "get-2" (func 3))
)
