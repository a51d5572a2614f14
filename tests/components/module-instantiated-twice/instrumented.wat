(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type $r (;0;) (func (result i32)))
    (type (;1;) (func (param i32)))
    (type (;2;) (func (param i32) (result i32)))
    (table $t (;0;) 4 funcref)
    (memory (;0;) 1)
    (global $g (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const 0)
    (global (;2;) (mut i32) i32.const -1)
    (export "mem" (memory 0))
    (export "setup" (func 2))
    (export "read" (func 3))
    (export "slot" (func 4))
    (export "__compsnap_memory0" (memory 0))
    (export "__compsnap_global0" (global $g))
    (export "__compsnap_table0" (table $t))
    (export "__compsnap_probing" (global 1))
    (export "__compsnap_probe_out" (global 2))
    (elem (;0;) declare func $a $b)
    (func $a (;0;) (type $r) (result i32)
      global.get 1
      if ;; label = @1
        i32.const 0
        global.set 2
        i32.const 0
        return
      end
      i32.const 10
    )
    (func $b (;1;) (type $r) (result i32)
      global.get 1
      if ;; label = @1
        i32.const 1
        global.set 2
        i32.const 0
        return
      end
      i32.const 20
    )
    (func (;2;) (type 1) (param i32)
      global.get 1
      if ;; label = @1
        i32.const 2
        global.set 2
        return
      end
      local.get 0
      global.set $g
      i32.const 100
      local.get 0
      i32.const 3
      i32.mul
      i32.store
      local.get 0
      i32.const 1
      i32.eq
      if ;; label = @1
        i32.const 0
        ref.func $a
        table.set $t
      else
        i32.const 2
        ref.func $b
        table.set $t
      end
    )
    (func (;3;) (type $r) (result i32)
      global.get 1
      if ;; label = @1
        i32.const 3
        global.set 2
        i32.const 0
        return
      end
      global.get $g
      i32.const 100
      i32.load
      i32.add
    )
    (func (;4;) (type 2) (param i32) (result i32)
      global.get 1
      if ;; label = @1
        i32.const 4
        global.set 2
        i32.const 0
        return
      end
      local.get 0
      call_indirect (type $r)
    )
  )
  (core instance $x (;0;) (instantiate $m))
  (core instance $y (;1;) (instantiate $m))
  (core module $driver (;1;)
    (type (;0;) (func (param i32)))
    (type (;1;) (func))
    (import "x" "setup" (func $sx (;0;) (type 0) (param i32)))
    (import "y" "setup" (func $sy (;1;) (type 0) (param i32)))
    (global (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const -1)
    (export "init" (func 2))
    (export "__compsnap_probing" (global 0))
    (export "__compsnap_probe_out" (global 1))
    (func (;2;) (type 1)
      global.get 0
      if ;; label = @1
        i32.const 2
        global.set 1
        return
      end
      i32.const 1
      call $sx
      i32.const 2
      call $sy
    )
  )
  (core instance $d (;2;) (instantiate $driver
      (with "x" (instance $x))
      (with "y" (instance $y))
    )
  )
  (type (;2;) (func))
  (alias core export $d "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (result u32)))
  (alias core export $x "read" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (type (;4;) (func (result u32)))
  (alias core export $y "read" (core func (;2;)))
  (func (;3;) (type 4) (canon lift (core func 2)))
  (type (;5;) (func (param "i" u32) (result u32)))
  (alias core export $x "slot" (core func (;3;)))
  (func (;4;) (type 5) (canon lift (core func 3)))
  (type (;6;) (func (param "i" u32) (result u32)))
  (alias core export $y "slot" (core func (;4;)))
  (func (;5;) (type 6) (canon lift (core func 4)))
  (export (;6;) "init" (func 1))
  (export (;7;) "read-x" (func 2))
  (export (;8;) "read-y" (func 3))
  (export (;9;) "slot-x" (func 4))
  (export (;10;) "slot-y" (func 5))
  (type (;7;) (func))
  (core module (;2;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;3;) (instantiate 2))
  (alias core export 3 "memory" (core memory (;0;)))
  (alias core export $x "__compsnap_memory0" (core memory (;1;)))
  (alias core export $x "__compsnap_global0" (core global (;0;)))
  (alias core export $x "__compsnap_table0" (core table (;0;)))
  (alias core export $y "__compsnap_memory0" (core memory (;2;)))
  (alias core export $y "__compsnap_global0" (core global (;1;)))
  (alias core export $y "__compsnap_table0" (core table (;1;)))
  (alias core export $x "__compsnap_probing" (core global (;2;)))
  (alias core export $x "__compsnap_probe_out" (core global (;3;)))
  (alias core export $y "__compsnap_probing" (core global (;4;)))
  (alias core export $y "__compsnap_probe_out" (core global (;5;)))
  (alias core export $d "__compsnap_probing" (core global (;6;)))
  (alias core export $d "__compsnap_probe_out" (core global (;7;)))
  (core func (;5;) (canon lower (func 0) (memory 0)))
  (core func (;6;) (canon lower (func 0) (memory 1)))
  (core func (;7;) (canon lower (func 0) (memory 2)))
  (core instance (;4;)
    (export "scratch" (memory 0))
    (export "put" (func 5))
    (export "m0" (memory 1))
    (export "p0" (func 6))
    (export "g1_0" (global 0))
    (export "t2" (table 0))
    (export "m3" (memory 2))
    (export "p3" (func 7))
    (export "g4_0" (global 1))
    (export "t5" (table 1))
    (export "probing0" (global 2))
    (export "out0" (global 3))
    (export "probing1" (global 4))
    (export "out1" (global 5))
    (export "probing2" (global 6))
    (export "out2" (global 7))
  )
  (core module (;3;)
    (type (;0;) (func (result i32)))
    (type (;1;) (func (param i32)))
    (type (;2;) (func (param i32) (result i32)))
    (type (;3;) (func (result i32)))
    (type (;4;) (func (param i32)))
    (type (;5;) (func (param i32) (result i32)))
    (type (;6;) (func (param i32)))
    (type (;7;) (func))
    (type (;8;) (func (param i32 i32 i32 i64 i64)))
    (type (;9;) (func))
    (type (;10;) (func (param i64)))
    (type (;11;) (func (result i64)))
    (type (;12;) (func (param i32)))
    (type (;13;) (func (param funcref) (result i64)))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 8) (param i32 i32 i32 i64 i64)))
    (import "a" "m0" (memory (;1;) 0))
    (import "a" "p0" (func (;1;) (type 8) (param i32 i32 i32 i64 i64)))
    (import "a" "g1_0" (global (;0;) (mut i32)))
    (import "a" "t2" (table (;0;) 0 funcref))
    (import "a" "m3" (memory (;2;) 0))
    (import "a" "p3" (func (;2;) (type 8) (param i32 i32 i32 i64 i64)))
    (import "a" "g4_0" (global (;1;) (mut i32)))
    (import "a" "t5" (table (;1;) 0 funcref))
    (import "a" "probing0" (global (;2;) (mut i32)))
    (import "a" "out0" (global (;3;) (mut i32)))
    (import "a" "probing1" (global (;4;) (mut i32)))
    (import "a" "out1" (global (;5;) (mut i32)))
    (import "a" "probing2" (global (;6;) (mut i32)))
    (import "a" "out2" (global (;7;) (mut i32)))
    (table (;2;) 1 1 funcref)
    (global (;8;) (mut i32) i32.const 0)
    (export "dump" (func 3))
    (elem (;0;) declare func 3)
    (func (;3;) (type 9)
      (local i32 i32 i32 i32 i32)
      memory.size 1
      local.set 0
      i32.const 0
      local.set 1
      block ;; label = @1
        loop ;; label = @2
          local.get 0
          i32.eqz
          br_if 1 (;@1;)
          local.get 0
          i32.const 1024
          local.get 0
          i32.const 1024
          i32.lt_u
          select
          local.set 2
          i32.const 0
          local.get 1
          local.get 2
          i32.const 16
          i32.shl
          i64.const 0
          i64.const 0
          call 1
          local.get 1
          local.get 2
          i32.const 16
          i32.shl
          i32.add
          local.set 1
          local.get 0
          local.get 2
          i32.sub
          local.set 0
          br 0 (;@2;)
        end
      end
      i32.const 1
      i32.const 0
      i32.const 0
      global.get 0
      i64.extend_i32_u
      i64.const 0
      call 0
      memory.size 2
      local.set 0
      i32.const 0
      local.set 1
      block ;; label = @1
        loop ;; label = @2
          local.get 0
          i32.eqz
          br_if 1 (;@1;)
          local.get 0
          i32.const 1024
          local.get 0
          i32.const 1024
          i32.lt_u
          select
          local.set 2
          i32.const 3
          local.get 1
          local.get 2
          i32.const 16
          i32.shl
          i64.const 0
          i64.const 0
          call 2
          local.get 1
          local.get 2
          i32.const 16
          i32.shl
          i32.add
          local.set 1
          local.get 0
          local.get 2
          i32.sub
          local.set 0
          br 0 (;@2;)
        end
      end
      i32.const 4
      i32.const 0
      i32.const 0
      global.get 1
      i64.extend_i32_u
      i64.const 0
      call 0
      i32.const 1
      call 6
      table.size 0
      local.set 4
      local.get 4
      i64.extend_i32_u
      i64.const 3
      i64.shl
      i64.const 65535
      i64.add
      i64.const 16
      i64.shr_u
      i32.wrap_i64
      local.tee 0
      memory.size
      i32.gt_u
      if ;; label = @1
        local.get 0
        memory.size
        i32.sub
        memory.grow
        i32.const -1
        i32.eq
        if ;; label = @2
          unreachable
        end
      end
      i32.const 0
      local.set 3
      block ;; label = @1
        loop ;; label = @2
          local.get 3
          local.get 4
          i32.ge_u
          br_if 1 (;@1;)
          local.get 3
          i32.const 3
          i32.shl
          local.get 3
          table.get 0
          call 7
          i64.store
          local.get 3
          i32.const 1
          i32.add
          local.set 3
          br 0 (;@2;)
        end
      end
      local.get 4
      i32.const 3
      i32.shl
      global.set 8
      i32.const 2
      i32.const 0
      global.get 8
      i64.const 0
      i64.const 0
      call 0
      table.size 1
      local.set 4
      local.get 4
      i64.extend_i32_u
      i64.const 3
      i64.shl
      i64.const 65535
      i64.add
      i64.const 16
      i64.shr_u
      i32.wrap_i64
      local.tee 0
      memory.size
      i32.gt_u
      if ;; label = @1
        local.get 0
        memory.size
        i32.sub
        memory.grow
        i32.const -1
        i32.eq
        if ;; label = @2
          unreachable
        end
      end
      i32.const 0
      local.set 3
      block ;; label = @1
        loop ;; label = @2
          local.get 3
          local.get 4
          i32.ge_u
          br_if 1 (;@1;)
          local.get 3
          i32.const 3
          i32.shl
          local.get 3
          table.get 1
          call 7
          i64.store
          local.get 3
          i32.const 1
          i32.add
          local.set 3
          br 0 (;@2;)
        end
      end
      local.get 4
      i32.const 3
      i32.shl
      global.set 8
      i32.const 5
      i32.const 0
      global.get 8
      i64.const 0
      i64.const 0
      call 0
      i32.const 0
      call 6
    )
    (func (;4;) (type 10) (param i64)
      global.get 8
      i32.const 8
      i32.add
      memory.size
      i32.const 16
      i32.shl
      i32.gt_u
      if ;; label = @1
        i32.const 16
        memory.grow
        drop
      end
      global.get 8
      local.get 0
      i64.store
      global.get 8
      i32.const 8
      i32.add
      global.set 8
    )
    (func (;5;) (type 11) (result i64)
      global.get 3
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 3
        i64.extend_i32_u
        i64.const 0
        i64.or
        i32.const -1
        global.set 3
        return
      end
      global.get 5
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 5
        i64.extend_i32_u
        i64.const 4294967296
        i64.or
        i32.const -1
        global.set 5
        return
      end
      global.get 7
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 7
        i64.extend_i32_u
        i64.const 8589934592
        i64.or
        i32.const -1
        global.set 7
        return
      end
      i64.const -3
    )
    (func (;6;) (type 12) (param i32)
      local.get 0
      global.set 2
      local.get 0
      global.set 4
      local.get 0
      global.set 6
    )
    (func (;7;) (type 13) (param funcref) (result i64)
      local.get 0
      ref.is_null
      if ;; label = @1
        i64.const -1
        return
      end
      i32.const 0
      local.get 0
      table.set 2
      i32.const 0
      call_indirect 2 (type 0)
      drop
      call 5
    )
  )
  (core instance (;5;) (instantiate 3
      (with "a" (instance 4))
    )
  )
  (alias core export 5 "dump" (core func (;8;)))
  (func (;11;) (type 7) (canon lift (core func 8)))
  (export (;12;) "compsnap-dump" (func 11))
)
