(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type $ii (;0;) (func (param i32) (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32) (result i32)))
    (type (;3;) (func (result i32)))
    (table $t (;0;) 3 funcref)
    (memory (;0;) 1)
    (memory (;1;) 1)
    (global (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const -1)
    (export "init" (func 2))
    (export "call" (func 3))
    (export "later" (func 4))
    (export "__compsnap_memory0" (memory 0))
    (export "__compsnap_table0" (table $t))
    (export "__compsnap_probing" (global 0))
    (export "__compsnap_probe_out" (global 1))
    (export "__compsnap_drops" (memory 1))
    (elem $used (;0;) funcref (ref.func $a) (ref.func $b))
    (elem $kept (;1;) funcref (ref.func $b))
    (func $a (;0;) (type $ii) (param i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 0
        global.set 1
        i32.const 0
        return
      end
      local.get 0
      i32.const 1
      i32.add
    )
    (func $b (;1;) (type $ii) (param i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 1
        global.set 1
        i32.const 0
        return
      end
      local.get 0
      i32.const 2
      i32.mul
    )
    (func (;2;) (type 1)
      global.get 0
      if ;; label = @1
        i32.const 2
        global.set 1
        return
      end
      i32.const 0
      i32.const 0
      i32.const 2
      table.init $used
      i32.const 0
      i32.const 1
      i32.store8 1
      elem.drop $used
      i32.const 8
      i32.const 0
      i32.const 3
      memory.init $pd
      i32.const 2
      i32.const 1
      i32.store8 1
      data.drop $pd
    )
    (func (;3;) (type 2) (param i32 i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 3
        global.set 1
        i32.const 0
        return
      end
      local.get 1
      local.get 0
      call_indirect (type $ii)
    )
    (func (;4;) (type 3) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 4
        global.set 1
        i32.const 0
        return
      end
      i32.const 2
      i32.const 0
      i32.const 1
      table.init $kept
      i32.const 0
      i32.const 0
      i32.const 2
      memory.init $kd
      i32.const 9
      i32.load8_u
      i32.const 1
      i32.load8_u
      i32.const 2
      call_indirect (type $ii)
      i32.add
    )
    (data $pd (;0;) "xyz")
    (data $kd (;1;) "kk")
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (param "slot" u32) (param "x" u32) (result u32)))
  (alias core export $i "call" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (type (;4;) (func (result u32)))
  (alias core export $i "later" (core func (;2;)))
  (func (;3;) (type 4) (canon lift (core func 2)))
  (export (;4;) "init" (func 1))
  (export (;5;) "call" (func 2))
  (export (;6;) "later" (func 3))
  (type (;5;) (func))
  (core module (;1;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;1;) (instantiate 1))
  (alias core export 1 "memory" (core memory (;0;)))
  (alias core export $i "__compsnap_memory0" (core memory (;1;)))
  (alias core export $i "__compsnap_table0" (core table (;0;)))
  (alias core export $i "__compsnap_drops" (core memory (;2;)))
  (alias core export $i "__compsnap_probing" (core global (;0;)))
  (alias core export $i "__compsnap_probe_out" (core global (;1;)))
  (core func (;3;) (canon lower (func 0) (memory 0)))
  (core func (;4;) (canon lower (func 0) (memory 1)))
  (core func (;5;) (canon lower (func 0) (memory 2)))
  (core instance (;2;)
    (export "scratch" (memory 0))
    (export "put" (func 3))
    (export "m0" (memory 1))
    (export "p0" (func 4))
    (export "t1" (table 0))
    (export "m2" (memory 2))
    (export "p2" (func 5))
    (export "probing0" (global 0))
    (export "out0" (global 1))
  )
  (core module (;2;)
    (type (;0;) (func (param i32) (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32) (result i32)))
    (type (;3;) (func (result i32)))
    (type (;4;) (func (param i32 i32 i32 i64 i64)))
    (type (;5;) (func))
    (type (;6;) (func (param i64)))
    (type (;7;) (func (result i64)))
    (type (;8;) (func (param i32)))
    (type (;9;) (func (param funcref) (result i64)))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 4) (param i32 i32 i32 i64 i64)))
    (import "a" "m0" (memory (;1;) 0))
    (import "a" "p0" (func (;1;) (type 4) (param i32 i32 i32 i64 i64)))
    (import "a" "t1" (table (;0;) 0 funcref))
    (import "a" "m2" (memory (;2;) 0))
    (import "a" "p2" (func (;2;) (type 4) (param i32 i32 i32 i64 i64)))
    (import "a" "probing0" (global (;0;) (mut i32)))
    (import "a" "out0" (global (;1;) (mut i32)))
    (table (;1;) 1 1 funcref)
    (global (;2;) (mut i32) i32.const 0)
    (export "dump" (func 3))
    (elem (;0;) declare func 3)
    (func (;3;) (type 5)
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
          i32.const 2
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
      global.set 2
      i32.const 1
      i32.const 0
      global.get 2
      i64.const 0
      i64.const 0
      call 0
      i32.const 0
      call 6
    )
    (func (;4;) (type 6) (param i64)
      global.get 2
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
      global.get 2
      local.get 0
      i64.store
      global.get 2
      i32.const 8
      i32.add
      global.set 2
    )
    (func (;5;) (type 7) (result i64)
      global.get 1
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 1
        i64.extend_i32_u
        i64.const 0
        i64.or
        i32.const -1
        global.set 1
        return
      end
      i64.const -3
    )
    (func (;6;) (type 8) (param i32)
      local.get 0
      global.set 0
    )
    (func (;7;) (type 9) (param funcref) (result i64)
      local.get 0
      ref.is_null
      if ;; label = @1
        i64.const -1
        return
      end
      i32.const 0
      local.get 0
      table.set 1
      i32.const 0
      i32.const 0
      call_indirect 1 (type 0)
      drop
      call 5
    )
  )
  (core instance (;3;) (instantiate 2
      (with "a" (instance 2))
    )
  )
  (alias core export 3 "dump" (core func (;6;)))
  (func (;7;) (type 5) (canon lift (core func 6)))
  (export (;8;) "compsnap-dump" (func 7))
)
