from gpu_node.cli import main

main()
