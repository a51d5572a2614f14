# registry_table_append(i32 f) -> i32: grows the indirect function table by one slot holding
# the funcref at index f, and returns the new slot's index. clang-14 cannot assemble
# table.grow; this file is assembled with clang-19 -mreference-types.
	.tabletype __indirect_function_table, funcref
	.globl registry_table_append
	.type registry_table_append,@function
registry_table_append:
	.functype registry_table_append (i32) -> (i32)
	local.get 0
	table.get __indirect_function_table
	i32.const 1
	table.grow __indirect_function_table
	end_function
