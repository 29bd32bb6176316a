// Named by a #line directive in Program.cs: its sequence points switch to this
// document inside one method (Documents). Nothing to compile here.
