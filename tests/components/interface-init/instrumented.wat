(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i32)))
    (global $x (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const 0)
    (global (;2;) (mut i32) i32.const -1)
    (export "init" (func 0))
    (export "get" (func 1))
    (export "__compsnap_global0" (global $x))
    (export "__compsnap_probing" (global 1))
    (export "__compsnap_probe_out" (global 2))
    (func (;0;) (type 0)
      global.get 1
      if ;; label = @1
        i32.const 0
        global.set 2
        return
      end
      i32.const 12
      global.set $x
    )
    (func (;1;) (type 1) (result i32)
      global.get 1
      if ;; label = @1
        i32.const 1
        global.set 2
        i32.const 0
        return
      end
      global.get $x
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func $init (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (result u32)))
  (alias core export $i "get" (core func (;1;)))
  (func $get (;2;) (type 3) (canon lift (core func 1)))
  (instance $setup (;0;)
    (export "init" (func $init))
    (export "get" (func $get))
  )
  (export (;1;) "my:pkg/setup@0.1.0" (instance $setup))
  (export (;3;) "get" (func $get))
  (type (;4;) (func))
  (core module (;1;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;1;) (instantiate 1))
  (alias core export 1 "memory" (core memory (;0;)))
  (alias core export $i "__compsnap_global0" (core global (;0;)))
  (core func (;2;) (canon lower (func 0) (memory 0)))
  (core instance (;2;)
    (export "scratch" (memory 0))
    (export "put" (func 2))
    (export "g0_0" (global 0))
  )
  (core module (;2;)
    (type (;0;) (func (param i32 i32 i32)))
    (type (;1;) (func))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 0) (param i32 i32 i32)))
    (import "a" "g0_0" (global (;0;) (mut i32)))
    (export "dump" (func 1))
    (func (;1;) (type 1)
      (local i32 i32 i32 i32 i32)
      i32.const 0
      global.get 0
      i32.store
      i32.const 0
      i32.const 0
      i32.const 16
      call 0
    )
  )
  (core instance (;3;) (instantiate 2
      (with "a" (instance 2))
    )
  )
  (alias core export 3 "dump" (core func (;3;)))
  (func (;4;) (type 4) (canon lift (core func 3)))
  (export (;5;) "compsnap-dump" (func 4))
)
