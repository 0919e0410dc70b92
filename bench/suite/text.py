"""Text building: concatenation, number formatting and a substring search."""

def main():
    total = 0
    hits = 0
    for i in range(1_000_000):
        parts = ["item"]
        for j in range(8):
            parts.append(":" + str(i * 8 + j))
        line = "".join(parts)
        total += len(line)
        if "77" in line:
            hits += 1
    print(total)
    print(hits)
main()
