(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $a (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func (param i32) (result i32)))
    (table (;0;) 3 funcref)
    (global (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const -1)
    (export "tab" (table 0))
    (export "call" (func 2))
    (export "__compsnap_table0" (table 0))
    (export "__compsnap_probing" (global 0))
    (export "__compsnap_probe_out" (global 1))
    (elem (;0;) (i32.const 0) func $one $two)
    (func $one (;0;) (type $v) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 0
        global.set 1
        i32.const 0
        return
      end
      i32.const 1
    )
    (func $two (;1;) (type $v) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 1
        global.set 1
        i32.const 0
        return
      end
      i32.const 2
    )
    (func (;2;) (type 1) (param i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 2
        global.set 1
        i32.const 0
        return
      end
      local.get 0
      call_indirect (type $v)
    )
  )
  (core instance $ia (;0;) (instantiate $a))
  (core module $b (;1;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func))
    (import "a" "tab" (table (;0;) 3 funcref))
    (global $ready (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const 0)
    (global (;2;) (mut i32) i32.const -1)
    (export "init" (func 0))
    (export "ready" (func 1))
    (export "__compsnap_global0" (global $ready))
    (export "__compsnap_probing" (global 1))
    (export "__compsnap_probe_out" (global 2))
    (func (;0;) (type 1)
      global.get 1
      if ;; label = @1
        i32.const 0
        global.set 2
        return
      end
      i32.const 1
      global.set $ready
    )
    (func (;1;) (type $v) (result i32)
      global.get 1
      if ;; label = @1
        i32.const 1
        global.set 2
        i32.const 0
        return
      end
      global.get $ready
      table.size 0
      i32.add
    )
  )
  (core instance $ib (;1;) (instantiate $b
      (with "a" (instance $ia))
    )
  )
  (type (;2;) (func))
  (alias core export $ib "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (param "slot" u32) (result u32)))
  (alias core export $ia "call" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (type (;4;) (func (result u32)))
  (alias core export $ib "ready" (core func (;2;)))
  (func (;3;) (type 4) (canon lift (core func 2)))
  (export (;4;) "init" (func 1))
  (export (;5;) "call" (func 2))
  (export (;6;) "ready" (func 3))
  (type (;5;) (func))
  (core module (;2;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;2;) (instantiate 2))
  (alias core export 2 "memory" (core memory (;0;)))
  (alias core export $ib "__compsnap_global0" (core global (;0;)))
  (core func (;3;) (canon lower (func 0) (memory 0)))
  (core instance (;3;)
    (export "scratch" (memory 0))
    (export "put" (func 3))
    (export "g1_0" (global 0))
  )
  (core module (;3;)
    (type (;0;) (func (param i32 i32 i32)))
    (type (;1;) (func))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 0) (param i32 i32 i32)))
    (import "a" "g1_0" (global (;0;) (mut i32)))
    (export "dump" (func 1))
    (func (;1;) (type 1)
      (local i32 i32 i32 i32 i32)
      i32.const 0
      global.get 0
      i32.store
      i32.const 1
      i32.const 0
      i32.const 16
      call 0
    )
  )
  (core instance (;4;) (instantiate 3
      (with "a" (instance 3))
    )
  )
  (alias core export 4 "dump" (core func (;4;)))
  (func (;7;) (type 5) (canon lift (core func 4)))
  (export (;8;) "compsnap-dump" (func 7))
)
