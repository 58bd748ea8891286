# Test guests: built by the project's Zig into build/guests/ (being written).
.PHONY: guests
guests:
	@mkdir -p build/guests
